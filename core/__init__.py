"""The kernel below every feature: settings, databases, errors, tokens, logs, paging, Redis.

Nothing here imports a feature, a library or the composition root (an import-linter contract in
pyproject.toml checks it), so every package can stand on it.
"""

"""The bus: cross-process pub/sub with per-channel history, behind one small interface.

``base.py`` is the contract; ``memory.py`` serves one process, ``redis.py`` many.
"""

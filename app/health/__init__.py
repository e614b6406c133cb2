"""Liveness and readiness: is the process up, and is every configured backend reachable."""

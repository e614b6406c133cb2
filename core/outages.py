"""Which backend an exception says is out of reach: PostgreSQL (``database``), Redis (``bus``).

An outage is the server's state, not a bug: the client should hear 503 with ``Retry-After`` and
a code it can act on, not 500. asyncpg and redis raise their own types for most of it, but a
refused or reset connection and a connect timeout surface as plain ``OSError`` or
``TimeoutError``; for those the innermost library frame of the traceback says whose it was.
"""

from __future__ import annotations

import asyncpg
import redis.exceptions

DATABASE = "database"
BUS = "bus"

_DATABASE_ERRORS = (
    asyncpg.exceptions.PostgresConnectionError,  # SQLSTATE class 08: lost, refused, failed
    asyncpg.exceptions.CannotConnectNowError,  # starting up or shutting down
    asyncpg.exceptions.AdminShutdownError,  # terminated by a fast or immediate stop
    asyncpg.exceptions.CrashShutdownError,  # another backend crashed: every session ends
    asyncpg.exceptions.TooManyConnectionsError,
)
_BUS_ERRORS = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    redis.exceptions.ClusterDownError,  # a cluster failing over, or missing a shard
    redis.exceptions.SlotNotCoveredError,
)
_AMBIGUOUS = (OSError, TimeoutError)
_LIBRARIES = {"asyncpg": DATABASE, "redis": BUS}


def outage_of(exc: BaseException) -> str | None:
    """``database``, ``bus`` or None (not an outage), from ``exc`` or the exceptions it chains."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        backend = _backend(current)
        if backend is not None:
            return backend
        current = current.__cause__ or current.__context__
    return None


def _backend(exc: BaseException) -> str | None:
    if isinstance(exc, _DATABASE_ERRORS):
        return DATABASE
    if isinstance(exc, _BUS_ERRORS):
        return BUS
    if isinstance(exc, asyncpg.exceptions.InterfaceError) and "connection is closed" in str(exc):
        return DATABASE
    if isinstance(exc, _AMBIGUOUS):
        return _raised_in(exc)
    return None


def _raised_in(exc: BaseException) -> str | None:
    """The backend whose library code is the innermost on ``exc``'s traceback, if any."""
    found = None
    tb = exc.__traceback__
    while tb is not None:
        module = str(tb.tb_frame.f_globals.get("__name__", ""))
        backend = _LIBRARIES.get(module.partition(".")[0])
        if backend is not None:
            found = backend
        tb = tb.tb_next
    return found

"""Who is calling now: a verified token's user with today's role, or 401 if the account is gone.

An access token names its user and the role at issue for up to its whole lifetime, while roles
change and accounts are erased meanwhile. So every REST request and every websocket connect or
refresh checks the user against a small cache of ``users`` rows, here, in each process.

The cache stays right through PostgreSQL: a trigger (migration ``m0009_user_changes``) notifies
``mydrtv_users`` with the user's id whenever a role or handle changes or a row is deleted, only
once that commits and whoever wrote it (the API, the CLI, SQL by hand). Every process listens
and forgets the user at once; the process that made the change forgets it before answering, so
its own next request already sees the change. While the listening connection is down the cache
is bypassed (every check reads the database), and it starts empty after every reconnect, so a
notification lost with the connection cannot leave a stale role behind. Watchers (the websocket
gateway) hear every change, to act on the user's live connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import asyncpg
import msgspec

from app.auth.tokens import AccessTokens, Principal
from app.db import Database
from app.errors import Unauthorized
from app.outages import outage_of

log = logging.getLogger("mydrtv.principals")

NOTIFY_CHANNEL = "mydrtv_users"
_RECONNECT_SECONDS = 1.0
_BOUND_SECONDS = 5.0  # for a database without a timeout of its own (the CLI's)

Watcher = Callable[[uuid.UUID], None]


class _User(msgspec.Struct, frozen=True):
    handle: str | None  # None: no such user (any more)
    role: str | None
    at: float


class Principals:
    def __init__(
        self, db: Database, tokens: AccessTokens, *, size: int = 10_000, ttl_seconds: float = 60.0
    ) -> None:
        self._db = db
        self._tokens = tokens
        self._size = size
        self._ttl = ttl_seconds
        self._cache: OrderedDict[uuid.UUID, _User] = OrderedDict()
        self._listening = False
        self._generation = 0  # bumped by every forget: a lookup begun before one is not cached
        self._watchers: list[Watcher] = []

    async def verify(self, token: str) -> Principal:
        """The token's principal with the user's current role; 401 ``account_gone`` if erased."""
        return await self.current(self._tokens.verify(token))

    async def current(self, principal: Principal) -> Principal:
        user = await self._user(principal.id)
        if user.role is None or user.handle is None:
            raise Unauthorized("the account of this access token no longer exists", code="account_gone")
        if (user.role, user.handle) == (principal.role, principal.handle):
            return principal
        return msgspec.structs.replace(principal, role=user.role, handle=user.handle)

    async def _user(self, user_id: uuid.UUID) -> _User:
        cached = self._cache.get(user_id) if self._listening else None
        if cached is not None and time.monotonic() - cached.at < self._ttl:
            return cached
        generation = self._generation
        rows = await self._db.fetch("SELECT handle, role FROM users WHERE id = {}", user_id)
        row: dict[str, Any] = rows[0] if rows else {"handle": None, "role": None}
        user = _User(handle=row["handle"], role=row["role"], at=time.monotonic())
        if self._listening and generation == self._generation:
            self._cache[user_id] = user
            self._cache.move_to_end(user_id)
            while len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return user

    def watch(self, watcher: Watcher) -> None:
        """Call ``watcher(user_id)`` whenever a user's role, handle or existence changes."""
        self._watchers.append(watcher)

    def forget(self, user_id: uuid.UUID) -> None:
        """The user changed: look them up again next time, and tell the watchers."""
        self._generation += 1
        self._cache.pop(user_id, None)
        for watcher in self._watchers:
            try:
                watcher(user_id)
            except Exception:
                log.exception("a principal watcher failed")

    def _notified(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            user_id = uuid.UUID(payload)
        except ValueError:
            log.warning("ignored a malformed user notification %r", payload)
            return
        self.forget(user_id)

    def _lost(self) -> None:
        self._listening = False
        self._generation += 1
        self._cache.clear()

    async def run(self) -> None:
        """Listen for user changes until cancelled, reconnecting when the connection drops.

        Connecting, each statement and closing are bounded by the database's timeout, and the
        connection is probed that often: a hung or unreachable server sends no notifications
        and no error, so silence alone would keep a cache that may already be stale."""
        bound = self._db.timeout or _BOUND_SECONDS
        while True:
            try:
                connection = await asyncpg.connect(self._db.url, timeout=bound, command_timeout=bound)
            except Exception as exc:
                self._failed("cannot listen for user changes; the role cache is off", exc)
                await asyncio.sleep(_RECONNECT_SECONDS)
                continue
            try:
                await self._listen(connection, bound)
                log.warning("lost the user-change listener; reconnecting")
            except Exception as exc:  # the server stopped answering, or the connection broke
                self._failed("lost the user-change listener; reconnecting", exc)
            finally:
                self._lost()
                with contextlib.suppress(Exception):
                    await connection.close(timeout=bound)
                if not connection.is_closed():
                    connection.terminate()

    @staticmethod
    def _failed(what: str, exc: Exception) -> None:
        """One line for an outage (it repeats each retry); the traceback for anything else."""
        log.warning("%s: %s: %s", what, type(exc).__name__, exc, exc_info=outage_of(exc) is None)

    async def _listen(self, connection: asyncpg.Connection, heartbeat: float) -> None:
        """Serve from the cache until ``connection`` closes, or a probe of it fails (raises)."""
        closed = asyncio.Event()
        connection.add_termination_listener(lambda _: closed.set())
        await connection.add_listener(NOTIFY_CHANNEL, self._notified)
        self._lost()  # whatever was cached before may have missed a notification
        self._listening = True
        log.info("listening for user changes; the role cache is on")
        while not closed.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(heartbeat):
                    await closed.wait()
            if not closed.is_set():
                await connection.fetchval("SELECT 1")  # within the command timeout, or it raises

"""PostgreSQL databases: a Piccolo engine per database, and the tables bound to it.

The system has two databases (see docs/privacy.md): ``main`` for everything public and
``identity`` for personal data. Tables are bound to their engine here, at start-up, because the
URLs come from settings rather than from a global ``piccolo_conf``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, NoReturn

import asyncpg
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction
from piccolo.querystring import QueryString
from piccolo.table import Table

log = logging.getLogger("mydrtv")

# How long stopping waits for connections in use before closing them regardless.
CLOSE_GRACE_SECONDS = 5.0


async def _keep_session(_connection: asyncpg.Connection) -> None:
    """The pool's reset, run on every connection given back: nothing beyond what asyncpg always
    does first (roll back a transaction left open, drop the Python-side listeners).

    asyncpg's default sends ``pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`` each
    time, one more round trip per query run outside a transaction, and so per request (a comment
    posted paid three). Nothing here leaves session state on a pooled connection: advisory locks
    are transaction-scoped (``pg_advisory_xact_lock``), cursors live inside transactions, there is
    no session ``SET``, and LISTEN and the relay's lease use connections of their own.
    Code that needs session state takes a connection of its own, not one from the pool.
    """


class _Engine(PostgresEngine):
    """Piccolo's engine, minus the blocking version check it runs when constructed.

    Connectivity is checked when the pool starts, inside the event loop, instead.
    """

    bound: float | None = None  # seconds to wait for a pooled connection; None: for ever

    async def check_version(self) -> None:
        return None

    def transaction(self, allow_nested: bool = True) -> PostgresTransaction:
        return _Transaction(self, allow_nested=allow_nested)

    async def _run_in_pool(self, query: str, args: Sequence[Any] | None = None) -> Any:
        """Piccolo's own, but waiting at most ``bound`` for a connection (Piccolo waits for ever)."""
        if self.pool is None:
            raise ValueError("A pool isn't currently running.")
        async with self.pool.acquire(timeout=self.bound) as connection:
            return await connection.fetch(query, *(args or ()))


class _Transaction(PostgresTransaction):
    """Piccolo's transaction, made safe against a cancel or a failure at its edges.

    Piccolo's own gives its connection back and forgets itself (the task's current transaction)
    only when BEGIN, COMMIT and ROLLBACK all succeed. A cancel landing in one of them (a worker
    told to stop, a lost lease) leaked the connection, and left the task pointing at a
    transaction whose connection was back in the pool: every later query of that task failed
    with "connection has been released back to the pool", and closing the pool hung.
    """

    engine: _Engine

    async def get_connection(self) -> Any:
        if self.engine.pool is not None:
            return await self.engine.pool.acquire(timeout=self.engine.bound)
        return await self.engine.get_new_connection()

    async def __aenter__(self) -> PostgresTransaction:
        if self._parent is not None:
            return self._parent
        self.connection = await self.get_connection()
        try:
            self.transaction = self.connection.transaction()
            await self.begin()  # type: ignore[no-untyped-call]
        except BaseException:
            await self._give_back()
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent is not None:
            return exception is None
        try:
            if exception is not None:
                if not self._rolled_back:
                    await self.rollback()  # type: ignore[no-untyped-call]
            elif not self._committed and not self._rolled_back:
                await self.commit()  # type: ignore[no-untyped-call]
        finally:
            self.engine.current_transaction.reset(self.context)
            await self._give_back()
        return exception is None

    async def _give_back(self) -> None:
        """Return the connection; one whose transaction is in an unknown state is closed."""
        clean = self._committed or self._rolled_back
        if not clean:
            self.connection.terminate()  # mid-BEGIN/COMMIT/ROLLBACK: its state is unknown
        if self.engine.pool is not None:
            await asyncio.shield(self.engine.pool.release(self.connection))
        elif clean:
            await self.connection.close()


class Database:
    """``timeout`` bounds, in seconds, connecting, waiting for a pooled connection and each
    statement on the pool, so that a hung server fails requests (503) instead of holding them for
    ever; asyncpg's cancel of a timed-out statement is bounded by it too, so a request fails
    within about twice ``timeout``. None (the CLI's maintenance commands, migrations, which run
    on connections of their own): no bound."""

    def __init__(
        self, name: str, url: str, tables: Sequence[type[Table]] = (), *, timeout: float | None = None
    ) -> None:
        self.name = name
        self.url = url
        self.timeout = timeout
        self.engine: _Engine = _Engine(config={"dsn": url}, extensions=())
        self.engine.bound = timeout
        self.tables = tuple(tables)
        self.bind()

    def bind(self) -> None:
        """Point the tables at this database. Piccolo keeps the engine on the table class, so a
        process serves one set of databases at a time; the last one started wins."""
        for table in self.tables:
            table._meta.db = self.engine

    async def start(self, max_size: int = 10) -> None:
        self.bind()
        bounds = {} if self.timeout is None else {"timeout": self.timeout, "command_timeout": self.timeout}
        await self.engine.start_connection_pool(min_size=1, max_size=max_size, reset=_keep_session, **bounds)

    async def stop(self, grace: float = CLOSE_GRACE_SECONDS) -> None:
        """Close the pool, waiting up to ``grace`` for connections in use to come back.

        asyncpg's close waits for ever for a connection never released (a task cancelled between
        taking a connection and starting its transaction leaks one), and a process told to stop
        would hang; past ``grace`` the rest are closed at once.
        """
        pool, self.engine.pool = self.engine.pool, None
        if pool is None:
            return
        try:
            async with asyncio.timeout(grace):
                await pool.close()
        except TimeoutError:
            log.warning("database %s: connections still in use after %.0f s; closed", self.name, grace)
            pool.terminate()

    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        """Run one SQL statement with ``{}`` placeholders; rows come back as dicts."""
        rows = await self.engine.run_querystring(QueryString(sql, *args))
        return [dict(row) for row in rows or []]

    async def ping(self) -> None:
        await self.fetch("SELECT 1")


async def notified(wake: asyncio.Event, poll_seconds: float) -> None:
    """Wait until ``wake`` is set (by a LISTEN callback) or ``poll_seconds`` pass.

    ``asyncio.timeout``, not ``wait_for``: on Python 3.11 ``wait_for`` can swallow a cancellation
    that arrives as the event is set, and a loop around it would then never end.
    """
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(poll_seconds):
            await wake.wait()


async def work_when_notified(wake: asyncio.Event, work: Callable[[], Awaitable[float]]) -> NoReturn:
    """Run ``work`` now, then again each time ``wake`` is set (a LISTEN callback) or the seconds
    ``work`` returned have passed, until cancelled: the loop of every table drained on NOTIFY.

    ``wake`` is cleared before each run, so a notification that arrives while ``work`` runs is
    kept, and the wait after it returns at once.
    """
    while True:
        wake.clear()
        await notified(wake, await work())


@contextlib.asynccontextmanager
async def listening(url: str, channel: str, wake: asyncio.Event) -> AsyncIterator[None]:
    """A connection of its own that sets ``wake`` on every NOTIFY of ``channel``, while entered."""
    connection = await asyncpg.connect(url)
    try:
        await connection.add_listener(channel, lambda *_: wake.set())
        yield
    finally:
        with contextlib.suppress(Exception):
            await connection.close()

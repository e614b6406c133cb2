"""PostgreSQL databases: a Piccolo engine per database, and the tables bound to it.

The system has two databases (see docs/privacy.md): ``main`` for everything public and
``identity`` for personal data. Tables are bound to their engine here, at start-up, because the
URLs come from settings rather than from a global ``piccolo_conf``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

from piccolo.engine.postgres import PostgresEngine
from piccolo.querystring import QueryString
from piccolo.table import Table


class _Engine(PostgresEngine):
    """Piccolo's engine, minus the blocking version check it runs when constructed.

    Connectivity is checked when the pool starts, inside the event loop, instead.
    """

    async def check_version(self) -> None:
        return None


class Database:
    def __init__(self, name: str, url: str, tables: Sequence[type[Table]] = ()) -> None:
        self.name = name
        self.url = url
        self.engine: PostgresEngine = _Engine(config={"dsn": url}, extensions=())
        self.tables = tuple(tables)
        self.bind()

    def bind(self) -> None:
        """Point the tables at this database. Piccolo keeps the engine on the table class, so a
        process serves one set of databases at a time; the last one started wins."""
        for table in self.tables:
            table._meta.db = self.engine

    async def start(self, max_size: int = 10) -> None:
        self.bind()
        await self.engine.start_connection_pool(min_size=1, max_size=max_size)

    async def stop(self) -> None:
        if self.engine.pool is not None:
            await self.engine.close_connection_pool()

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

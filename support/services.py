"""Real servers for the tests: the ones named by ``MYDRTV_TEST_*`` or embedded ones we start."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg

from core.db import Database
from migrations import runner


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def with_database(url: str, database: str) -> str:
    """``url`` with its database name replaced."""
    base, _, rest = url.rpartition("/")
    query = rest.partition("?")[2]
    return f"{base}/{database}" + (f"?{query}" if query else "")


@contextmanager
def embedded_postgres(root: Path) -> Iterator[str]:
    from server.embedded.postgres import EmbeddedPostgres

    server = EmbeddedPostgres(root, free_port())
    server.start()
    try:
        yield server.url()
    finally:
        server.stop()


@contextmanager
def embedded_redis(root: Path) -> Iterator[str]:
    from server.embedded.redis import EmbeddedRedis

    server = EmbeddedRedis(root, free_port())
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@contextmanager
def embedded_neo4j(
    root: Path, *, heap_mib: int = 512, page_cache_mib: int = 64, quick_start: bool = False
) -> Iterator[str]:
    """A Neo4j server (built by Maven first if needed); its Bolt URL, no auth. ``quick_start``
    for tests (see ``EmbeddedNeo4j``), not for benchmarks."""
    from server.embedded.neo4j import EmbeddedNeo4j

    server = EmbeddedNeo4j(
        root, free_port(), heap_mib=heap_mib, page_cache_mib=page_cache_mib, quick_start=quick_start
    )
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


class DatabaseFactory:
    """Fresh, migrated databases, cloned from templates migrated once per test session."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.run = uuid.uuid4().hex[:8]
        self.created: list[str] = []

    async def _execute(self, sql: str) -> None:
        connection = await asyncpg.connect(self.admin_url)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    async def create_empty(self, label: str) -> str:
        name = f"mydrtv_test_{self.run}_{label}_{uuid.uuid4().hex[:6]}"
        await self._execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return with_database(self.admin_url, name)

    def template(self, database: str) -> str:
        return f"mydrtv_test_{self.run}_template_{database}"

    async def create_templates(self) -> None:
        for database in runner.DATABASES:
            name = self.template(database)
            await self._execute(f'CREATE DATABASE "{name}"')
            self.created.append(name)
            db = Database(database, with_database(self.admin_url, name))
            await runner.migrate(db.engine, database)

    async def create_migrated(self, database: str) -> str:
        name = f"mydrtv_test_{self.run}_{database}_{uuid.uuid4().hex[:6]}"
        await self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template(database)}"')
        self.created.append(name)
        return with_database(self.admin_url, name)

    async def drop_all(self) -> None:
        for name in reversed(self.created):
            await self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.created.clear()

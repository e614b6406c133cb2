"""The whole embedded stack of ``mydrtv dev``: its servers, their databases, and a lock.

The graph is FalkorDB inside the stack's Redis, or with ``MYDRTV_DEV_GRAPH=neo4j`` a Neo4j server
of its own (``server/embedded/neo4j.py``).
"""

from __future__ import annotations

import fcntl
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import IO

import asyncpg

from core.settings import Settings
from server.embedded.neo4j import EmbeddedNeo4j
from server.embedded.postgres import EmbeddedPostgres
from server.embedded.redis import EmbeddedRedis

MAIN_DATABASE = "mydrtv"
IDENTITY_DATABASE = "mydrtv_identity"


class StackBusy(RuntimeError):
    """Another ``mydrtv dev`` already runs on the same data directory."""


class EmbeddedStack:
    def __init__(self, settings: Settings) -> None:
        self.data_dir = Path(settings.data_dir).resolve()
        self.postgres = EmbeddedPostgres(self.data_dir, settings.embedded_postgres_port)
        self.redis = EmbeddedRedis(self.data_dir, settings.embedded_redis_port)
        self.neo4j = (
            EmbeddedNeo4j(self.data_dir, settings.embedded_neo4j_port, quick_start=True)
            if settings.dev_graph == "neo4j"
            else None
        )
        self._lock: IO[str] | None = None

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._take_lock()
        try:
            self.postgres.start()
            self.redis.start()
            if self.neo4j is not None:
                self.neo4j.start()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the servers in reverse order of start; safe to call more than once."""
        if self.neo4j is not None:
            self.neo4j.stop()
        self.redis.stop()
        self.postgres.stop()
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    async def create_databases(self) -> None:
        connection = await asyncpg.connect(self.postgres.url())
        try:
            existing = {r["datname"] for r in await connection.fetch("SELECT datname FROM pg_database")}
            for name in (MAIN_DATABASE, IDENTITY_DATABASE):
                if name not in existing:
                    await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()

    def configure(self, settings: Settings) -> Settings:
        """``settings`` pointed at this stack's servers, with a JWT secret kept across runs."""
        import msgspec

        media = self.data_dir / "media"
        media.mkdir(exist_ok=True)
        return msgspec.structs.replace(
            settings,
            database_url=self.postgres.url(MAIN_DATABASE),
            identity_database_url=self.postgres.url(IDENTITY_DATABASE),
            redis_url=self.redis.url,
            graph_url=self.neo4j.url if self.neo4j is not None else f"falkor://127.0.0.1:{self.redis.port}",
            storage_url=media.as_uri(),
            jwt_secret=settings.jwt_secret or self._jwt_secret(),
            privacy_master_key=settings.privacy_master_key or self.privacy_master_key(),
        )

    def privacy_master_key(self) -> str:
        """The development stack's master key, made once and kept beside its data (never do this
        with a production key: it must not sit beside the database it protects)."""
        from app.identity.crypto import new_master_key

        return _kept_secret(self.data_dir / "privacy-master-key", new_master_key)

    def _jwt_secret(self) -> str:
        return _kept_secret(self.data_dir / "jwt-secret", lambda: secrets.token_urlsafe(48))

    def _take_lock(self) -> None:
        lock = open(self.data_dir / "dev.lock", "a+")  # noqa: SIM115 - held for the stack's life
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            lock.seek(0)
            holder = lock.read().strip() or "unknown"
            lock.close()
            raise StackBusy(
                f"another `mydrtv dev` (pid {holder}) is running on {self.data_dir}; stop it first"
            ) from exc
        lock.truncate(0)
        lock.write(str(os.getpid()))
        lock.flush()
        self._lock = lock


def _kept_secret(path: Path, make: Callable[[], str]) -> str:
    """A secret read from ``path``, made and stored there (mode 600) the first time."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(make())
    return path.read_text().strip()

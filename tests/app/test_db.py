"""Database.stop: a connection never given back does not hang a process that is stopping."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from app.db import Database
from app.settings import Settings
from tests.services import DatabaseFactory


async def _sessions_of(url: str) -> int:
    """Server sessions on the database of ``url``, the one asking excepted."""
    connection = await asyncpg.connect(url)
    try:
        count: int = await connection.fetchval(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return count
    finally:
        await connection.close()


async def test_stopping_closes_a_connection_that_was_never_released(settings: Settings) -> None:
    db = Database("main", settings.database_url)
    await db.start()
    pool = db.engine.pool
    assert pool is not None
    await pool.acquire()  # and never released, as by a task cancelled mid-transaction
    async with asyncio.timeout(10):  # a regression fails here instead of hanging the run
        await db.stop(grace=0.2)
    assert pool.is_closing() and db.engine.pool is None
    assert await _sessions_of(settings.database_url) == 0


async def test_stopping_closes_every_connection_that_came_back(settings: Settings) -> None:
    db = Database("main", settings.database_url)
    await db.start()
    assert await db.fetch("SELECT 1 AS one") == [{"one": 1}]
    await db.stop(grace=30)
    assert db.engine.pool is None
    assert await _sessions_of(settings.database_url) == 0


PROBE = """
CREATE TABLE tx_probe (mode text);
CREATE FUNCTION tx_probe_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.mode = 'fail' THEN RAISE EXCEPTION 'refused at commit'; END IF;
  IF NEW.mode = 'slow' THEN PERFORM pg_sleep(3); END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER tx_probe_at_commit AFTER INSERT ON tx_probe
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION tx_probe_check();
"""


@pytest.fixture
async def probed(databases: DatabaseFactory) -> AsyncIterator[Database]:
    """A database whose COMMIT fails or takes long, by what the transaction inserted."""
    url = await databases.create_empty("txprobe")
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(PROBE)
    finally:
        await connection.close()
    db = Database("probe", url)
    await db.start(max_size=2)
    yield db
    await db.stop()


def _in_use(db: Database) -> int:
    pool = db.engine.pool
    assert pool is not None
    return pool.get_size() - pool.get_idle_size()


async def test_a_failed_commit_leaves_the_task_free_to_query_and_the_connection_back(
    probed: Database,
) -> None:
    with pytest.raises(asyncpg.RaiseError, match="refused at commit"):
        async with probed.engine.transaction():
            await probed.fetch("INSERT INTO tx_probe VALUES ('fail')")
    assert await probed.fetch("SELECT count(*) AS n FROM tx_probe") == [{"n": 0}]
    assert _in_use(probed) == 0


async def test_a_cancel_during_commit_gives_the_connection_back(probed: Database) -> None:
    body_done = asyncio.Event()

    async def commit_slowly() -> None:
        async with probed.engine.transaction():
            await probed.fetch("INSERT INTO tx_probe VALUES ('slow')")
            body_done.set()  # the task goes on into COMMIT, whose trigger sleeps, before we run

    task = asyncio.create_task(commit_slowly())
    await body_done.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert _in_use(probed) == 0
    assert await probed.fetch("SELECT 1 AS one") == [{"one": 1}]

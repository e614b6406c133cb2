"""An app with every store a user's data can reach: PostgreSQL (both databases), Redis, FalkorDB
and a storage directory; the outbox relay runs in the app (it feeds the graph and the history
streams); privacy jobs are run by the tests themselves (``run_jobs``), so a test knows when."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from core.db import Database
from core.settings import Settings
from server.factory import create_app
from server.privacy import Standalone
from tests.app.video_helpers import roomy


@pytest.fixture(scope="module")
def privacy_settings(
    settings: Settings, falkordb_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    media = tmp_path_factory.mktemp("privacy-media")
    return roomy(
        settings,
        graph_url=falkordb_url,
        graph_name=f"privacy-{uuid.uuid4().hex[:8]}",
        storage_url=Path(media).as_uri(),
        media_worker=False,
        privacy_worker=False,
        privacy_erasure_grace_days=0.0,
        suggestions_cache_seconds=0,
    )


@pytest.fixture(scope="module")
def app(privacy_settings: Settings) -> Litestar:
    return create_app(privacy_settings)


@pytest.fixture(scope="module")
async def api(app: Litestar) -> AsyncIterator[AsyncTestClient[Any]]:
    async with AsyncTestClient(app=app) as client:
        yield client


@pytest.fixture(scope="module")
async def main_db(privacy_settings: Settings) -> AsyncIterator[Database]:
    db = Database("main", privacy_settings.database_url)
    await db.start(max_size=4)
    yield db
    await db.stop()


async def relayed(db: Database, within: float = 20.0) -> None:
    """Wait until the app's relay has published every outbox row (the graph and history caught up)."""
    deadline = time.monotonic() + within
    while (await db.fetch("SELECT count(*) AS n FROM outbox WHERE published_at IS NULL"))[0]["n"]:
        assert time.monotonic() < deadline, "the outbox relay did not catch up"
        await asyncio.sleep(0.02)


@pytest.fixture(scope="module")
async def stack(privacy_settings: Settings) -> AsyncIterator[Standalone]:
    """The registry and a privacy worker of the tests' own (the app's live in the app's loop)."""
    standalone = Standalone(privacy_settings)
    await standalone.start()
    yield standalone
    await standalone.stop()


async def run_jobs(
    stack: Standalone,
    db: Database,
    job_id: int,
    within: float = 60.0,
    relay: Callable[[], Awaitable[Any]] | None = None,
) -> dict[str, Any]:
    """Run the privacy worker until job ``job_id`` has ended; the job's row. ``relay`` drains the
    outbox between runs where no app's relay does."""
    worker = stack.worker
    deadline = time.monotonic() + within
    while True:
        if relay is not None:
            await relay()
        await worker.work()
        rows = await db.fetch("SELECT * FROM privacy_jobs WHERE id = {}", job_id)
        if rows[0]["state"] in ("done", "failed", "cancelled"):
            return rows[0]
        assert time.monotonic() < deadline, f"job {job_id} did not end: {rows[0]}"
        await asyncio.sleep(0.1)  # the job waits for the relay (NotYet) for a short delay


def settings_with(settings: Settings, **changes: Any) -> Settings:
    return msgspec.structs.replace(settings, **changes)

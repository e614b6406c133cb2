"""An app with a FalkorDB graph, whose outbox the tests drain themselves (no background relay),
so a test knows exactly when the graph has caught up."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from core.db import Database
from core.settings import Settings
from graph.falkordb import FalkorGraph
from graph.projector import Projector
from realtime.bus.memory import MemoryBus
from realtime.outbox import Relay
from server.factory import create_app


@pytest.fixture(scope="module")
def graph_settings(settings: Settings, falkordb_url: str) -> Settings:
    return msgspec.structs.replace(
        settings,
        graph_url=falkordb_url,
        graph_name=f"api-{uuid.uuid4().hex[:8]}",
        outbox_relay=False,
        suggestions_cache_seconds=0,
        popular_videos_cache_seconds=0,
    )


@pytest.fixture(scope="module")
async def api(graph_settings: Settings) -> AsyncIterator[AsyncTestClient[Any]]:
    app = create_app(graph_settings)
    app.state.database_url = graph_settings.database_url  # for helpers that play a transcode
    async with AsyncTestClient(app=app) as client:
        yield client


@pytest.fixture(scope="module")
async def sync(
    graph_settings: Settings, api: AsyncTestClient[Any]
) -> AsyncIterator[Callable[[], Awaitable[int]]]:
    """Project every committed change into the graph, as the relay would."""
    db = Database("main", graph_settings.database_url)
    await db.start(max_size=2)
    graph = FalkorGraph(graph_settings.graph_url, graph_settings.graph_name)
    relay = Relay(db, MemoryBus(), handlers={"@graph": Projector(db, graph).handle})
    yield relay.drain
    await graph.close()
    await db.stop()

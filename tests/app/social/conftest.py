"""An app with a graph, FalkorDB or Neo4j (each module's tests run on both), whose outbox the
tests drain themselves (no background relay), so a test knows exactly when the graph has caught up."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from core.db import Database
from core.settings import Settings
from graph.projector import Projector
from realtime.bus.memory import MemoryBus
from realtime.outbox import Relay
from server import backends
from server.factory import create_app
from tests.graph_servers import BACKENDS, backend_url


@pytest.fixture(scope="module", params=BACKENDS)
async def graph_settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    graph_url, graph_name = await backend_url(request, request.param)
    return msgspec.structs.replace(
        settings,
        graph_url=graph_url,
        graph_name=graph_name,
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
    graph = backends.graph(graph_settings)
    assert graph is not None
    relay = Relay(db, MemoryBus(), handlers={"@graph": Projector(db, graph).handle})
    yield relay.drain
    await graph.close()
    await db.stop()

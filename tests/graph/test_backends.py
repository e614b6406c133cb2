"""The composition root picks the graph backend from ``MYDRTV_GRAPH_URL``; docker-compose's URL is one."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from core.settings import Settings, SettingsError
from graph.falkordb import FalkorGraph
from graph.neo4j import Neo4jGraph
from graph.queries import Dialect
from server import backends

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"


@pytest.mark.parametrize(
    ("url", "kind", "dialect"),
    [
        ("falkor://127.0.0.1:6379", FalkorGraph, Dialect.FALKORDB),
        ("redis://127.0.0.1:6379/0", FalkorGraph, Dialect.FALKORDB),
        ("bolt://neo4j:secret@db.example:7687", Neo4jGraph, Dialect.NEO4J),
        ("neo4j://db.example:7687/social", Neo4jGraph, Dialect.NEO4J),
    ],
)
async def test_the_url_chooses_the_backend(url: str, kind: type, dialect: Dialect) -> None:
    graph = backends.graph(Settings(graph_url=url))
    assert isinstance(graph, kind) and graph.dialect is dialect
    await graph.close()


def test_no_url_no_graph_and_options_on_a_neo4j_url_are_refused() -> None:
    assert backends.graph(Settings()) is None
    # FalkorDB's Bolt listener (?dialect=falkordb) is no longer a backend: refused, not run as Neo4j.
    with pytest.raises(SettingsError, match=r"no options.*falkor://"):
        backends.graph(Settings(graph_url="bolt://127.0.0.1:7687?dialect=falkordb"))


async def test_docker_compose_runs_the_neo4j_backend() -> None:
    api = yaml.safe_load(COMPOSE.read_text())["services"]["api"]
    graph = backends.graph(Settings(graph_url=api["environment"]["MYDRTV_GRAPH_URL"]))
    assert isinstance(graph, Neo4jGraph) and graph.dialect is Dialect.NEO4J
    await graph.close()

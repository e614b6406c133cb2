"""Reading the graph from an endpoint: a graph that is missing or down is a clear 503."""

from __future__ import annotations

from typing import Any

from core.errors import ServiceUnavailable
from graph.base import Graph, GraphUnavailable
from graph.queries import Query


def graph_needed(graph: Graph | None) -> Graph:
    if graph is None:
        raise ServiceUnavailable("this server has no graph database configured", code="graph_unavailable")
    return graph


async def run_read(graph: Graph | None, query: Query, **params: Any) -> list[dict[str, Any]]:
    """A read for an endpoint: a graph that is missing or down is a 503 with a clear code."""
    try:
        return await graph_needed(graph).run(query, **params)
    except GraphUnavailable as exc:
        raise ServiceUnavailable(
            "the graph database is unavailable; try again later", code="graph_unavailable"
        ) from exc

"""FalkorDB through its own client (``falkor://``, ``redis://``): the embedded default.

Every statement is one ``GRAPH.QUERY`` (reads go to ``GRAPH.RO_QUERY``), which FalkorDB applies
atomically and one writer at a time; that is why MERGE needs no uniqueness constraint here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import redis.exceptions
from falkordb.asyncio import FalkorDB

from graph.base import Graph, GraphUnavailable, Row
from graph.queries import Dialect


class FalkorGraph(Graph):
    dialect = Dialect.FALKORDB
    batch_size = 5000

    def __init__(self, url: str, name: str) -> None:
        super().__init__()
        self.name = name
        self._db = FalkorDB.from_url(url, socket_connect_timeout=5, health_check_interval=30)
        self._graph = self._db.select_graph(name)

    async def _execute(self, cypher: str, params: Mapping[str, Any], *, write: bool) -> list[Row]:
        run = self._graph.query if write else self._graph.ro_query
        try:
            result = await run(cypher, dict(params))
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError) as exc:
            raise GraphUnavailable(f"FalkorDB is unreachable: {exc}") from exc
        names = [column[1] for column in result.header]
        return [dict(zip(names, row, strict=True)) for row in result.result_set]

    async def close(self) -> None:
        await self._db.connection.aclose()

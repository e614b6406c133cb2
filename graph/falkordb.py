"""FalkorDB through its own client (``falkor://``, ``redis://``): the embedded default.

Every statement is one ``GRAPH.QUERY`` (reads go to ``GRAPH.RO_QUERY``), which FalkorDB applies
atomically and one writer at a time; that is why MERGE needs no uniqueness constraint here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import redis.exceptions
from falkordb.asyncio import FalkorDB

from graph.base import Graph, GraphUnavailable, Row
from graph.queries import Dialect

_UNREACHABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)


class FalkorGraph(Graph):
    dialect = Dialect.FALKORDB
    batch_size = 5000

    def __init__(self, url: str, name: str) -> None:
        super().__init__()
        self.name = name
        self._url = url
        self._db: Any = None
        self._graph: Any = None
        self._connecting = asyncio.Lock()

    async def _connected(self) -> Any:
        """The client, made on first use: its constructor asks the server (synchronously) whether
        it is a cluster, so it runs in a thread, and a server that is down fails a query, not
        the application's start."""
        async with self._connecting:
            if self._graph is None:
                try:
                    self._db = await asyncio.to_thread(
                        FalkorDB.from_url, self._url, socket_connect_timeout=5, health_check_interval=30
                    )
                except _UNREACHABLE as exc:
                    raise GraphUnavailable(f"FalkorDB is unreachable: {exc}") from exc
                self._graph = self._db.select_graph(self.name)
        return self._graph

    async def _execute(self, cypher: str, params: Mapping[str, Any], *, write: bool) -> list[Row]:
        graph = self._graph or await self._connected()
        run = graph.query if write else graph.ro_query
        try:
            result = await run(cypher, dict(params))
        except _UNREACHABLE as exc:
            raise GraphUnavailable(f"FalkorDB is unreachable: {exc}") from exc
        except redis.exceptions.ResponseError as exc:
            if not write and "empty key" in str(exc):
                return []  # a read before anything was written: the graph does not exist yet
            raise
        names = [column[1] for column in result.header]
        return [dict(zip(names, row, strict=True)) for row in result.result_set]

    async def close(self) -> None:
        if self._db is not None:
            await self._db.connection.aclose()

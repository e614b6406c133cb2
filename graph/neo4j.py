"""Neo4j through the official async driver (``bolt://``, ``neo4j://``): production.

Credentials come from the URL (``bolt://user:password@host:7687``) and the database from its
path (``/name``; none: the server's default). ``?dialect=falkordb`` points the same driver at
FalkorDB's experimental Bolt listener instead; that listener pastes parameters into the query
text through a 4 KB buffer, so bulk loads go in small batches there (docs/operations.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

import neo4j.exceptions
from neo4j import AsyncGraphDatabase, RoutingControl

from graph.base import Graph, GraphUnavailable, Row
from graph.queries import Dialect

# A bulk row is at most ~100 characters once pasted (two UUIDs and two small values); 20 rows
# stay well inside the Bolt listener's 4096-byte buffer, query text included.
FALKORDB_BOLT_BATCH = 20


class Neo4jGraph(Graph):
    def __init__(self, url: str) -> None:
        super().__init__()
        parts = urlsplit(url)
        options = parse_qs(parts.query)
        self.dialect = Dialect(options.get("dialect", ["neo4j"])[0])
        if self.dialect is Dialect.FALKORDB:
            self.batch_size = FALKORDB_BOLT_BATCH
        auth = (parts.username or "", parts.password or "") if parts.username else None
        netloc = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
        self._database = parts.path.strip("/") or None
        self._driver = AsyncGraphDatabase.driver(f"{parts.scheme}://{netloc}", auth=auth)

    async def _execute(self, cypher: str, params: Mapping[str, Any], *, write: bool) -> list[Row]:
        try:
            result = await self._driver.execute_query(
                cypher,
                dict(params),
                database_=self._database,
                routing_=RoutingControl.WRITE if write else RoutingControl.READ,
            )
        except (neo4j.exceptions.ServiceUnavailable, neo4j.exceptions.SessionExpired, OSError) as exc:
            raise GraphUnavailable(f"the graph database is unreachable: {exc}") from exc
        return [record.data() for record in result.records]

    async def close(self) -> None:
        await self._driver.close()

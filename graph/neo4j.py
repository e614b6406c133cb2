"""Neo4j through the official async driver (``bolt://``, ``neo4j://``): production.

Credentials come from the URL (``bolt://user:password@host:7687``) and the database from its
path (``/name``; none: the server's default). The URL takes no options: ``?dialect=falkordb``,
which once pointed this driver at FalkorDB's experimental Bolt listener, is refused (use
``falkor://`` for FalkorDB).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import neo4j.exceptions
from neo4j import READ_ACCESS, AsyncGraphDatabase, RoutingControl

from graph.base import Graph, GraphUnavailable, Row
from graph.queries import Dialect

# The driver retries a statement that failed for a transient reason (no server, a leader change)
# for 30 s by default, so a request would hang that long before its 503. A failed projection is
# retried by the outbox relay anyway, and a request is better answered 503 at once.
CONNECT_SECONDS = 5.0
RETRY_SECONDS = 1.0


class Neo4jGraph(Graph):
    dialect = Dialect.NEO4J

    def __init__(self, url: str) -> None:
        super().__init__()
        parts = urlsplit(url)
        if parts.query:
            raise ValueError(f"a Neo4j URL takes no options (?{parts.query}); FalkorDB is falkor://host:port")
        auth = (parts.username or "", parts.password or "") if parts.username else None
        netloc = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
        self._database = parts.path.strip("/") or None
        self._driver = AsyncGraphDatabase.driver(
            f"{parts.scheme}://{netloc}",
            auth=auth,
            connection_timeout=CONNECT_SECONDS,
            connection_acquisition_timeout=CONNECT_SECONDS,
            max_transaction_retry_time=RETRY_SECONDS,
            # "No such property/relationship type yet" arrives for every read of a graph that has,
            # say, no dismissal yet, and "constraint already exists" for every start's schema
            # set-up; the driver would log each one.
            notifications_disabled_classifications=["UNRECOGNIZED", "SCHEMA"],
        )

    async def _execute(self, cypher: str, params: Mapping[str, Any], *, write: bool) -> list[Row]:
        try:
            if not write:
                return await self._read(cypher, params)
            result = await self._driver.execute_query(
                cypher, dict(params), database_=self._database, routing_=RoutingControl.WRITE
            )
        except (neo4j.exceptions.ServiceUnavailable, neo4j.exceptions.SessionExpired, OSError) as exc:
            raise GraphUnavailable(f"the graph database is unreachable: {exc}") from exc
        return [record.data() for record in result.records]

    async def _read(self, cypher: str, params: Mapping[str, Any]) -> list[Row]:
        """A read as an auto-commit transaction: RUN and PULL in one round trip. A managed
        transaction (``execute_query``) adds a COMMIT round trip to every request; a read has
        nothing to commit, and a failed one is answered 503 rather than retried."""
        async with self._driver.session(database=self._database, default_access_mode=READ_ACCESS) as session:
            result = await session.run(cypher, dict(params))
            keys = result.keys()
            # ``record.data()`` walks every value to turn nodes into dicts: reads return none.
            return [dict(zip(keys, record.values(), strict=True)) async for record in result]

    async def close(self) -> None:
        await self._driver.close()

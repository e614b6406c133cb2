"""The graph database's personal data part: the user's node and every edge touching it.

It runs after the main database's parts, so PostgreSQL no longer holds the user's follows: each
account the user followed gets its follower count from PostgreSQL again before the node goes
(``DETACH DELETE``), and a run cut short between the two does both again. A projection event
still in the outbox about the user finds nothing in PostgreSQL and so creates nothing.
"""

from __future__ import annotations

import uuid

from app.privacy.parts import Exported
from core.db import Database
from graph import queries
from graph.base import Graph


class GraphPart:
    name = "graph"
    store = "graph"

    def __init__(self, db: Database, graph: Graph) -> None:
        self._db = db
        self._graph = graph

    async def export(self, user_id: uuid.UUID) -> Exported:
        node = await self._graph.run(queries.USER_NODE, id=str(user_id))
        edges = await self._graph.run(queries.USER_EDGES, id=str(user_id))
        return Exported(records={"graph_node": node, "graph_edges": edges})

    async def erase(self, user_id: uuid.UUID) -> dict[str, int]:
        edges = await self._graph.run(queries.USER_EDGES, id=str(user_id))
        followees = [row["id"] for row in await self._graph.run(queries.FOLLOWEES, id=str(user_id))]
        for start in range(0, len(followees), self._graph.batch_size):
            batch = followees[start : start + self._graph.batch_size]
            counts = await self._db.fetch(
                "SELECT f.id, count(x.follower_id) AS n FROM unnest({}::uuid[]) AS f(id)"
                " LEFT JOIN follows x ON x.followee_id = f.id AND x.follower_id <> {} GROUP BY f.id",
                batch,
                user_id,
            )
            rows = [[str(row["id"]), int(row["n"])] for row in counts]
            await self._graph.run(queries.SET_FOLLOWERS, rows=rows)
        node = await self._graph.run(queries.USER_NODE, id=str(user_id))
        await self._graph.run(queries.DELETE_USER, id=str(user_id))
        return {"node": len(node), "edges": len(edges)}

    async def residue(self, user_id: uuid.UUID) -> list[str]:
        found = []
        if await self._graph.run(queries.USER_NODE, id=str(user_id)):
            found.append("the user's node")
        edges = await self._graph.run(queries.USER_EDGES, id=str(user_id))
        if edges:
            found.append(f"{len(edges)} edges")
        return found

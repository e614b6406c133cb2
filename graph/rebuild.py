"""Rebuilding the graph from PostgreSQL, and checking that the two agree.

``rebuild`` empties the graph, loads every part from one consistent PostgreSQL snapshot in bulk
(``UNWIND`` batches), and then re-applies every ``@graph`` change queued since the snapshot
began: a change the relay projected while the load was still writing older state is thereby put
right, because the projector writes a key's current state, whatever it was told.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import msgspec

from core.db import Database
from graph import queries
from graph.base import Graph
from graph.events import GRAPH_CHANNEL, decoder
from graph.projector import POPULARITY_SQL, Projector
from graph.queries import Query

log = logging.getLogger("mydrtv.graph")

_EPOCH = "extract(epoch FROM {})::bigint"


@dataclass(frozen=True)
class Part:
    """One kind of node or edge: its rows in PostgreSQL, how to load them, how to read them back.

    Rows are lists in the order the load query's ``r[i]`` expects; the first ``compared``
    columns are what the dump query returns and what a check compares.
    """

    name: str
    sql: str
    load: Query
    dump: Query
    compared: int


def _user_edge(name: str, table: str, left: str, right: str, load: Query, dump: Query) -> Part:
    sql = f"SELECT {left}::text, {right}::text, {_EPOCH.format('created_at')} FROM {table}"
    return Part(name, sql, load, dump, 2)


# In load order: nodes before the edges that MATCH them.
PARTS = (
    Part(
        "users",
        "SELECT u.id::text, count(f.follower_id)::int FROM users u"
        " LEFT JOIN follows f ON f.followee_id = u.id GROUP BY u.id",
        queries.LOAD_USERS,
        queries.DUMP_USERS,
        2,
    ),
    Part(
        "videos",
        f"SELECT v.id::text, v.visibility, v.owner_id::text, ({POPULARITY_SQL})::int FROM videos v",
        queries.LOAD_VIDEOS,
        queries.DUMP_VIDEOS,
        4,
    ),
    _user_edge(
        "follows", "follows", "follower_id", "followee_id", queries.LOAD_FOLLOWS, queries.DUMP_FOLLOWS
    ),
    _user_edge("blocks", "blocks", "blocker_id", "blocked_id", queries.LOAD_BLOCKS, queries.DUMP_BLOCKS),
    _user_edge("mutes", "mutes", "muter_id", "muted_id", queries.LOAD_MUTES, queries.DUMP_MUTES),
    _user_edge(
        "dismissals",
        "suggestion_dismissals",
        "user_id",
        "dismissed_id",
        queries.LOAD_DISMISSALS,
        queries.DUMP_DISMISSALS,
    ),
    Part(
        "ratings",
        f"SELECT user_id::text, video_id::text, stars::int, {_EPOCH.format('updated_at')} FROM ratings",
        queries.LOAD_RATINGS,
        queries.DUMP_RATINGS,
        3,
    ),
    Part(
        "watches",
        f"SELECT user_id::text, video_id::text, {_EPOCH.format('last_watched_at')} FROM watches",
        queries.LOAD_WATCHES,
        queries.DUMP_WATCHES,
        2,
    ),
)


USER_EDGES = ("follows", "blocks", "mutes", "dismissals")
VIDEO_EDGES = ("ratings", "watches")


class RebuildReport(msgspec.Struct):
    loaded: dict[str, int]  # rows per part
    replayed: int  # changes queued during the load and applied again after it
    seconds: float


async def _batches(connection: asyncpg.Connection, sql: str, size: int) -> AsyncIterator[list[list[Any]]]:
    batch: list[list[Any]] = []
    async for record in connection.cursor(sql, prefetch=max(size, 1000)):
        batch.append(list(record))
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


async def clear(graph: Graph, batch: int = 10_000) -> None:
    """Delete every node and edge, a batch of nodes per statement (Neo4j keeps each in memory)."""
    while (await graph.run(queries.CLEAR_SOME, batch=batch))[0]["deleted"]:
        pass


async def rebuild(db: Database, graph: Graph) -> RebuildReport:
    started = time.perf_counter()
    mark = await db.fetch("SELECT coalesce(max(id), 0) AS id FROM outbox WHERE channel = {}", GRAPH_CHANNEL)
    await graph.setup()
    await clear(graph)
    loaded: dict[str, int] = {}
    connection = await asyncpg.connect(db.url)
    try:
        async with connection.transaction(isolation="repeatable_read", readonly=True):
            for part in PARTS:
                count = 0
                async for rows in _batches(connection, part.sql, graph.batch_size):
                    await graph.run(part.load, rows=rows)
                    count += len(rows)
                loaded[part.name] = count
                log.info("graph rebuild: loaded", extra={"part": part.name, "rows": count})
    finally:
        await connection.close()
    projector = Projector(db, graph)
    changes = await db.fetch(
        "SELECT payload FROM outbox WHERE channel = {} AND id > {} ORDER BY id", GRAPH_CHANNEL, mark[0]["id"]
    )
    for change in changes:
        await projector.apply(decoder.decode(bytes(change["payload"])))
    return RebuildReport(loaded=loaded, replayed=len(changes), seconds=time.perf_counter() - started)


def _ends(found: dict[str, set[tuple[Any, ...]]]) -> tuple[set[Any], set[Any]]:
    """The users and the videos that take part in at least one edge."""
    users: set[Any] = set()
    videos: set[Any] = set()
    for name in USER_EDGES:
        for row in found[name]:
            users.update(row[:2])
    for name in VIDEO_EDGES:
        for row in found[name]:
            users.add(row[0])
            videos.add(row[1])
    return users, videos


async def differences(db: Database, graph: Graph) -> dict[str, dict[str, list[Any]]]:
    """Per part, what PostgreSQL has that the graph lacks (``missing``) and the reverse (``extra``);
    only parts that differ. Reads everything: for tests and ``mydrtv graph check``.

    Edges are compared whole. Nodes are compared where they take part in an edge: a user or a
    video with no edge plays no part in any query, and the projection adds nodes as edges reach
    them (registration and the demo catalogue do not tell the graph), while a rebuild loads all.
    """
    expected: dict[str, set[tuple[Any, ...]]] = {}
    actual: dict[str, set[tuple[Any, ...]]] = {}
    connection = await asyncpg.connect(db.url)
    try:
        for part in PARTS:
            expected[part.name] = {
                tuple(record)[: part.compared] for record in await connection.fetch(part.sql)
            }
            actual[part.name] = {tuple(row.values())[: part.compared] for row in await graph.run(part.dump)}
    finally:
        await connection.close()
    for side in (expected, actual):
        users, videos = _ends(side)
        side["users"] = {row for row in side["users"] if row[0] in users}
        side["videos"] = {row for row in side["videos"] if row[0] in videos}
    found: dict[str, dict[str, list[Any]]] = {}
    for part in PARTS:
        missing = expected[part.name] - actual[part.name]
        extra = actual[part.name] - expected[part.name]
        if missing or extra:
            found[part.name] = {
                "missing": sorted(missing, key=repr)[:20],
                "extra": sorted(extra, key=repr)[:20],
            }
    return found

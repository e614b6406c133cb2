"""One contract for every graph backend: projection, schema, rebuild and the catalog's reads.

Runs against FalkorDB through its client and against real Neo4j through the official driver (the
session's server: see ``neo4j_url`` in tests/conftest.py). Changes are made through the services
and reach the graph the way they do in production: outbox rows, drained by the relay into the
projector.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from typing import Any

import pytest

from app.privacy.graph import GraphPart
from app.social.relations import SocialService
from app.social.suggestions import PATH_BUDGET, PeopleSuggestions
from app.social.watches import WatchService
from app.videos.schemas import NewVideo, VideoChange, Visibility
from app.videos.service import VideoService
from core.db import Database
from core.tokens import Principal
from graph import queries
from graph.base import Graph, Row
from graph.events import DismissalChanged, RatingChanged, UserChanged, WatchChanged, enqueue_change
from graph.falkordb import FalkorGraph
from graph.neo4j import Neo4jGraph
from graph.projector import Projector
from graph.queries import Query
from graph.rebuild import clear, differences, rebuild
from realtime.bus.memory import MemoryBus
from realtime.outbox import Relay
from tests.graph_servers import BACKENDS, backend_url
from tests.services import DatabaseFactory


@pytest.fixture(scope="module", params=BACKENDS)
async def graph(request: pytest.FixtureRequest) -> AsyncIterator[Graph]:
    url, name = await backend_url(request, request.param)
    backend: Graph = FalkorGraph(url, name) if request.param == "falkordb" else Neo4jGraph(url)
    recorded = Recorded(backend)
    yield recorded
    await clear(backend)
    await backend.close()


class Recorded(Graph):
    """The backend under test, noting which catalog queries it was asked to run."""

    def __init__(self, real: Graph) -> None:
        super().__init__()
        self.real, self.dialect, self.batch_size = real, real.dialect, real.batch_size
        self.ran: set[str] = set()

    async def run(self, query: Query, **params: Any) -> list[Row]:
        self.ran.add(query.name)
        return await super().run(query, **params)

    async def _execute(self, cypher: str, params: Mapping[str, Any], *, write: bool) -> list[Row]:
        return await self.real._execute(cypher, params, write=write)

    async def close(self) -> None:
        await self.real.close()


@pytest.fixture(scope="module")
async def db(graph: Graph, databases: DatabaseFactory) -> AsyncIterator[Database]:
    """A main database of this backend's own, so each backend sees every change from the start."""
    database = Database("main", await databases.create_migrated("main"))
    await database.start()
    yield database
    await database.stop()


class World:
    """Users, follows, videos and ratings made through the services, and the relay that projects them."""

    def __init__(self, db: Database, graph: Graph) -> None:
        self.db = db
        self.graph = graph
        self.social = SocialService(db)
        self.videos = VideoService(db)
        self.watches = WatchService(db, self.videos)
        self.relay = Relay(db, MemoryBus(), handlers={"@graph": Projector(db, graph).handle})

    async def users(self, *names: str) -> list[Principal]:
        made = []
        for name in names:
            user = Principal(id=uuid.uuid4(), handle=f"{name}_{uuid.uuid4().hex[:8]}", role="viewer")
            await self.db.fetch("INSERT INTO users (id, handle) VALUES ({}, {})", user.id, user.handle)
            made.append(user)
        return made

    async def follow(self, follower: Principal, *followees: Principal) -> None:
        for followee in followees:
            await self.social.follow(follower, followee.id)

    async def video(self, owner: Principal, visibility: Visibility = "public") -> uuid.UUID:
        return (await self.videos.create(owner, NewVideo(title="v", visibility=visibility))).id

    async def rate(self, user: Principal, video: uuid.UUID, stars: int, days_ago: float = 30) -> None:
        """What the ratings feature does: the row and its graph change, in one transaction."""
        async with self.db.engine.transaction():
            await self.db.fetch(
                "INSERT INTO ratings (video_id, user_id, stars, updated_at)"
                " VALUES ({}, {}, {}, now() - make_interval(secs => {}))"
                " ON CONFLICT (video_id, user_id) DO UPDATE SET stars = EXCLUDED.stars,"
                " updated_at = EXCLUDED.updated_at",
                video,
                user.id,
                stars,
                days_ago * 86_400,
            )
            await enqueue_change(self.db, RatingChanged(str(video), str(user.id)))

    async def sync(self) -> None:
        await self.relay.drain()

    async def run(self, query: Query, **params: Any) -> list[Row]:
        return await self.graph.run(query, **params)

    async def pymk(self, user: Principal) -> list[tuple[str, int, int]]:
        rows = await self.run(
            queries.PEOPLE_YOU_MAY_KNOW, user=str(user.id), limit=50, paths=PATH_BUDGET, withdrawn=[]
        )
        return [(row["id"], int(row["mutual"]), int(row["followers"])) for row in rows]

    async def social_videos(self, user: Principal, since_days: float = 7) -> dict[str, Mapping[str, int]]:
        since = int(time.time() - since_days * 86_400)
        rows = await self.run(
            queries.SOCIAL_VIDEOS,
            user=str(user.id),
            stars=4,
            since=since,
            limit=50,
            paths=PATH_BUDGET,
            withdrawn=[],
        )
        return {row["id"]: {k: int(v) for k, v in row.items() if k != "id"} for row in rows}


@pytest.fixture(scope="module")
def world(db: Database, graph: Graph) -> World:
    return World(db, graph)


def ids(*users: Principal) -> set[str]:
    return {str(user.id) for user in users}


async def test_schema_setup_is_idempotent(graph: Graph) -> None:
    await graph.setup()
    graph._schema_ready = False  # as a second process starting on the same graph would
    await graph.setup()
    if graph.dialect is queries.Dialect.FALKORDB:
        rows = await graph.run(queries.FALKORDB_INDEXES)
        assert {(row["label"], tuple(row["properties"])) for row in rows} >= {
            ("User", ("id",)),
            ("Video", ("id",)),
        }
    else:  # what makes MERGE safe under concurrent writers, and the id look-ups fast
        assert isinstance(graph, Recorded) and isinstance(graph.real, Neo4jGraph)
        found = await graph.real._driver.execute_query(
            "SHOW CONSTRAINTS YIELD name, type, labelsOrTypes, properties"
        )
        assert {
            (r["name"], r["type"], tuple(r["labelsOrTypes"]), tuple(r["properties"])) for r in found.records
        } >= {
            ("mydrtv_user_id", "UNIQUENESS", ("User",), ("id",)),
            ("mydrtv_video_id", "UNIQUENESS", ("Video",), ("id",)),
        }


async def test_only_catalog_queries_run(graph: Graph) -> None:
    with pytest.raises(ValueError, match="catalog queries only"):
        await graph.run(Query("adhoc", "MATCH (n) RETURN n"))


async def test_follows_are_projected_and_unprojected_idempotently(world: World) -> None:
    a, b, c = await world.users("a", "b", "c")
    await world.follow(a, b, c)
    await world.follow(b, c)
    await world.sync()
    follows = {(row["a"], row["b"]) for row in await world.run(queries.DUMP_FOLLOWS)}
    assert {(str(a.id), str(b.id)), (str(a.id), str(c.id)), (str(b.id), str(c.id))} <= follows
    counts = {row["id"]: row["followers"] for row in await world.run(queries.DUMP_USERS)}
    assert counts[str(c.id)] == 2 and counts[str(b.id)] == 1

    await world.social.unfollow(a, c.id)
    await world.sync()
    # The same changes once more, as a relay retrying after a crash would deliver them.
    await world.db.fetch("UPDATE outbox SET published_at = NULL WHERE channel = '@graph'")
    await world.sync()
    follows = {(row["a"], row["b"]) for row in await world.run(queries.DUMP_FOLLOWS)}
    assert (str(a.id), str(c.id)) not in follows and (str(b.id), str(c.id)) in follows
    counts = {row["id"]: row["followers"] for row in await world.run(queries.DUMP_USERS)}
    assert counts[str(c.id)] == 1


async def test_people_you_may_know_rank_by_mutual_follows_then_fewer_followers(world: World) -> None:
    me, f1, f2, f3, x, y, z, fan1, fan2 = await world.users(
        "me", "f1", "f2", "f3", "x", "y", "z", "fan", "fan"
    )
    await world.follow(me, f1, f2, f3)
    await world.follow(f1, x, y, z, me, f2)  # me (myself) and f2 (already followed) never show
    await world.follow(f2, x, y, z)
    await world.follow(f3, x)
    await world.follow(fan1, y)
    await world.follow(fan2, y)  # y has more followers than z: z ranks first
    await world.sync()
    assert await world.pymk(me) == [(str(x.id), 3, 3), (str(z.id), 2, 2), (str(y.id), 2, 4)]


async def test_people_you_may_know_leave_out_blocked_muted_and_dismissed(world: World) -> None:
    me, friend, blocked, blocker, muted, dismissed, kept = await world.users(
        "me", "friend", "blocked", "blocker", "muted", "dismissed", "kept"
    )
    await world.follow(me, friend)
    await world.follow(friend, blocked, blocker, muted, dismissed, kept)
    await world.social.block(me, blocked.id)
    await world.social.block(blocker, me.id)
    await world.social.mute(me, muted.id)
    await PeopleSuggestions(world.db, world.graph).dismiss(me, dismissed.id)
    await world.sync()
    assert {row[0] for row in await world.pymk(me)} == ids(kept)

    await world.social.unmute(me, muted.id)
    await world.social.unblock(me, blocked.id)
    await world.sync()
    assert {row[0] for row in await world.pymk(me)} == ids(kept, muted, blocked)


async def test_social_videos_count_friends_and_followed_people(world: World) -> None:
    me, friend, followed, muted, owner = await world.users("me", "friend", "followed", "muted", "owner")
    await world.follow(me, friend, followed, muted)
    await world.follow(friend, me)  # friend: mutual
    await world.social.mute(me, muted.id)
    loved, watched, meh, seen, unlisted, trending = [await world.video(owner) for _ in range(6)]
    await world.videos.update(owner, unlisted, VideoChange(visibility="unlisted"))
    mine = await world.video(me)
    await world.rate(friend, loved, 5)
    await world.rate(followed, loved, 4)
    await world.rate(friend, meh, 3)  # below 4+: no signal
    await world.rate(muted, meh, 5)  # a muted person's taste does not count
    await world.watches.record(followed, watched)
    await world.watches.record(friend, seen)
    await world.watches.record(me, seen)  # already watched: left out
    await world.rate(friend, unlisted, 5)
    await world.rate(friend, mine, 5)  # my own video: left out
    await world.watches.record(friend, trending)
    await world.rate(friend, trending, 5, days_ago=1)
    await world.sync()

    picks = await world.social_videos(me)
    assert list(picks) == [str(trending), str(loved), str(watched)]  # highest score first
    assert picks[str(trending)] | {"popularity": 0} == {
        "rated_friends": 1,
        "rated_following": 1,
        "watched_friends": 1,
        "watched_following": 1,
        "recent_friends": 1,
        "score": 11,
        "popularity": 0,
    }
    assert (picks[str(loved)]["rated_friends"], picks[str(loved)]["rated_following"]) == (1, 2)
    assert picks[str(loved)]["recent_friends"] == 0  # rated a month ago
    assert (picks[str(watched)]["watched_following"], picks[str(watched)]["watched_friends"]) == (1, 0)


async def test_popular_videos_are_public_and_most_liked_first(world: World) -> None:
    owner, *fans = await world.users("owner", "p1", "p2", "p3")
    top, second, private, watched = [await world.video(owner) for _ in range(4)]
    await world.videos.update(owner, private, VideoChange(visibility="private"))
    for fan in fans:
        await world.rate(fan, top, 5)
        await world.videos.add_member(owner, private, fan.id)
        await world.watches.record(fan, private)
    await world.rate(fans[0], second, 4)
    await world.rate(fans[1], second, 2)  # not 4+: no popularity
    await world.watches.record(fans[0], watched)
    await world.watches.record(fans[1], watched)
    await world.sync()
    rows = await world.run(queries.POPULAR_VIDEOS, limit=100)
    mine = [row for row in rows if row["id"] in {str(top), str(second), str(private), str(watched)}]
    assert [(row["id"], int(row["popularity"]), row["owner"]) for row in mine] == [
        (str(top), 3, str(owner.id)),
        (str(watched), 2, str(owner.id)),
        (str(second), 1, str(owner.id)),
    ]


async def test_deleted_videos_and_ratings_leave_the_graph(world: World) -> None:
    owner, fan = await world.users("owner", "fan")
    kept, gone = await world.video(owner), await world.video(owner)
    await world.rate(fan, kept, 5)
    await world.rate(fan, gone, 5)
    await world.sync()
    await world.videos.delete(owner, gone)
    await world.db.fetch("DELETE FROM ratings WHERE video_id = {} AND user_id = {}", kept, fan.id)
    await enqueue_change(world.db, RatingChanged(str(kept), str(fan.id)))
    await world.sync()
    videos = {row["id"]: row for row in await world.run(queries.DUMP_VIDEOS)}
    assert str(gone) not in videos and videos[str(kept)]["popularity"] == 0
    ratings = {(row["a"], row["b"]) for row in await world.run(queries.DUMP_RATINGS)}
    assert (str(fan.id), str(kept)) not in ratings and (str(fan.id), str(gone)) not in ratings


async def test_rebuild_recovers_the_graph_from_postgresql(world: World) -> None:
    me, friend, known = await world.users("me", "friend", "known")
    await world.follow(me, friend)
    await world.follow(friend, known)
    await world.sync()
    # What every test above projected change by change is exactly what PostgreSQL holds.
    assert await differences(world.db, world.graph) == {}
    before = await world.pymk(me)
    assert before == [(str(known.id), 1, 1)]
    await clear(world.graph)
    stray, other = await world.users("stray", "other")
    await world.run(queries.SET_FOLLOW, at=0, followers=1, source=str(stray.id), target=str(other.id))
    assert await differences(world.db, world.graph)  # lost everything, and has an edge PostgreSQL lacks

    report = await rebuild(world.db, world.graph)
    assert await differences(world.db, world.graph) == {}
    assert report.loaded["follows"] == (await world.db.fetch("SELECT count(*) AS n FROM follows"))[0]["n"]
    assert await world.pymk(me) == before


async def test_a_deleted_user_leaves_the_graph_with_their_edges(world: World) -> None:
    gone, friend, new = await world.users("gone", "friend", "new")
    await world.follow(gone, friend)
    await world.follow(friend, gone)
    await PeopleSuggestions(world.db, world.graph).dismiss(gone, new.id)
    await world.sync()
    await world.db.fetch("DELETE FROM users WHERE id = {}", gone.id)  # erasure cascades in PostgreSQL
    for user in (gone, new):
        await enqueue_change(world.db, UserChanged(str(user.id)))
    # Late changes about what the erasure removed only delete.
    await enqueue_change(world.db, DismissalChanged(str(gone.id), str(new.id)))
    await enqueue_change(world.db, WatchChanged(str(gone.id), str(uuid.uuid4())))
    await world.sync()
    assert (str(gone.id), str(new.id)) not in {
        (r["a"], r["b"]) for r in await world.run(queries.DUMP_DISMISSALS)
    }
    users = {row["id"]: row["followers"] for row in await world.run(queries.DUMP_USERS)}
    assert str(gone.id) not in users and users[str(new.id)] == 0
    follows = {(row["a"], row["b"]) for row in await world.run(queries.DUMP_FOLLOWS)}
    assert not {pair for pair in follows if str(gone.id) in pair}


async def test_the_privacy_part_exports_and_erases_a_users_node(world: World) -> None:
    """The privacy queries: a user's node and edges, their followees, follower counts reset."""
    gone, friend, fan = await world.users("gone", "friend", "fan")
    await world.follow(gone, friend)
    await world.follow(fan, gone)
    await world.sync()
    part = GraphPart(world.db, world.graph)
    exported = (await part.export(gone.id)).records
    assert [row["id"] for row in exported["graph_node"]] == [str(gone.id)]
    edges = {(row["kind"], bool(row["outgoing"]), row["other"]) for row in exported["graph_edges"]}
    assert edges == {("FOLLOWS", True, str(friend.id)), ("FOLLOWS", False, str(fan.id))}
    await world.db.fetch("DELETE FROM users WHERE id = {}", gone.id)  # the main database's parts ran
    assert await part.erase(gone.id) == {"node": 1, "edges": 2}
    users = {row["id"]: row["followers"] for row in await world.run(queries.DUMP_USERS)}
    assert str(gone.id) not in users and users[str(friend.id)] == 0
    assert await part.residue(gone.id) == []


class ChangesDuringLoad(Graph):
    """The real backend; while the rebuild loads follows, ``during`` commits a change in PostgreSQL."""

    def __init__(self, real: Graph, during: Any) -> None:
        super().__init__()
        self.real, self.during, self.dialect, self.batch_size = real, during, real.dialect, real.batch_size

    async def _execute(self, cypher: str, params: Mapping[str, Any], *, write: bool) -> list[Row]:
        if self.during is not None and cypher == queries.LOAD_FOLLOWS.text(self.dialect):
            during, self.during = self.during, None
            await during()
        return await self.real._execute(cypher, params, write=write)

    async def close(self) -> None: ...


async def test_rebuild_applies_changes_committed_while_it_loads(world: World) -> None:
    a, b = await world.users("a", "b")
    await world.follow(a, b)
    await world.sync()
    # The snapshot still has the follow; the unfollow commits after it was taken.
    graph = ChangesDuringLoad(world.graph, lambda: world.social.unfollow(a, b.id))
    report = await rebuild(world.db, graph)
    assert report.replayed >= 1
    assert await differences(world.db, world.graph) == {}


async def test_every_catalog_query_ran_on_this_backend(graph: Recorded) -> None:
    """The tests above sent this backend every query of the catalog (but the other dialect's schema)."""
    other = queries.Dialect.NEO4J if graph.dialect is queries.Dialect.FALKORDB else queries.Dialect.FALKORDB
    schema = {
        queries.Dialect.FALKORDB: {queries.FALKORDB_INDEXES, *queries.FALKORDB_CREATE_INDEX.values()},
        queries.Dialect.NEO4J: set(queries.NEO4J_CONSTRAINTS),
    }
    expected = {query.name for query in queries.CATALOG - schema[other]}
    assert expected - graph.ran == set()


async def test_neo4j_finds_nothing_to_warn_about_in_the_catalog(
    request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture
) -> None:
    """Neo4j explains what it dislikes in a query (a cartesian product, a deprecated form, an
    unknown property) in notifications, which its driver logs, on every run of the query: the
    catalog draws none, so the API's log stays free of them."""
    url, _ = await backend_url(request, "neo4j")  # empty: no label, type or property known yet
    graph = Neo4jGraph(url)
    caplog.set_level(logging.DEBUG, logger="neo4j.notifications")
    try:
        await graph.setup()
        graph._schema_ready = False  # the next process to start finds the constraints in place
        await graph.setup()
        for query in sorted(queries.CATALOG, key=lambda query: query.name):
            if query.name.startswith("falkordb_"):
                continue
            names = set(re.findall(r"\$(\w+)", query.cypher))
            lists = {"rows": [["x", "y", 1, 2]], "withdrawn": ["x"]}
            params = {name: lists.get(name, 1) for name in names}
            await graph._execute("EXPLAIN " + query.text(graph.dialect), params, write=query.write)
    finally:
        await graph.close()
    assert [record.getMessage() for record in caplog.records if record.name == "neo4j.notifications"] == []

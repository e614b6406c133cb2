"""The bounded graph reads give ordinary users exactly the exact ranking, and heavy users a bounded one.

People you may know and video recommendations count at most a budget of paths per request
(``PATH_BUDGET``). On a generated network with a heavy tail (a few users follow many people,
popular people are followed by many), with the budget set low enough that part of the users
exceed it: every user within the budget gets what the exact query in SQL on PostgreSQL answers
(and the graph query with no bound), through the services the endpoints use; every user beyond it
gets a ranking counted from at most the budget, from the people they followed most recently.
Heavy users (beyond the budget) get the exact ranking precomputed (``app/social/rankings.py``),
kept up when their own follows change and dropped when they are no longer heavy.
Runs on FalkorDB, and on Neo4j when ``MYDRTV_TEST_NEO4J_URL`` names one.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import msgspec
import pytest

from app.social.rankings import PrecomputedRankings, consent_and_ranking, paths_sql, projecting_handler
from app.social.recommendations import GOOD_STARS, TRENDING_DAYS, VideoRecommendations
from app.social.suggestions import PeopleSuggestions
from app.videos.service import VideoService
from core.db import Database
from core.errors import ServiceUnavailable
from core.tokens import Principal
from graph import queries
from graph.base import Graph
from graph.events import FollowChanged
from graph.falkordb import FalkorGraph
from graph.neo4j import Neo4jGraph
from graph.projector import Projector
from graph.rebuild import clear, rebuild
from tests.graph_servers import BACKENDS, backend_url
from tests.services import DatabaseFactory

BUDGET = 40  # paths per request here: low enough that the heavy tail of this small network exceeds it
UNBOUNDED = 10**9

# The exact ranking of people you may know, in SQL: the same candidates, exclusions and order.
PYMK_SQL = """
WITH mine AS (SELECT followee_id FROM follows WHERE follower_id = $1)
SELECT f.followee_id::text AS id, count(*) AS mutual,
       (SELECT count(*) FROM follows x WHERE x.followee_id = f.followee_id) AS followers
FROM mine JOIN follows f ON f.follower_id = mine.followee_id
WHERE f.followee_id <> $1
  AND f.followee_id NOT IN (SELECT followee_id FROM mine)
  AND NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.blocker_id = $1 AND b.blocked_id = f.followee_id)
                                           OR (b.blocker_id = f.followee_id AND b.blocked_id = $1))
  AND NOT EXISTS (SELECT 1 FROM mutes m WHERE m.muter_id = $1 AND m.muted_id = f.followee_id)
  AND NOT EXISTS (SELECT 1 FROM suggestion_dismissals d
                  WHERE d.user_id = $1 AND d.dismissed_id = f.followee_id)
GROUP BY f.followee_id
ORDER BY mutual DESC, followers ASC, id ASC
LIMIT $2
"""

# The exact social video ranking, in SQL: per video, the people followed (not muted) who rated it
# 4+ or watched it, friends among them, friends active since $3; the graph's score and order.
VIDEOS_SQL = """
WITH mine AS (SELECT followee_id AS who FROM follows WHERE follower_id = $1
              AND followee_id NOT IN (SELECT muted_id FROM mutes WHERE muter_id = $1)),
     fans AS (SELECT follower_id AS who FROM follows WHERE followee_id = $1),
     signals AS (
       SELECT r.video_id, r.user_id AS who, true AS rated, r.updated_at AS at
       FROM ratings r JOIN mine ON mine.who = r.user_id WHERE r.stars >= $2
       UNION ALL
       SELECT w.video_id, w.user_id, false, w.last_watched_at
       FROM watches w JOIN mine ON mine.who = w.user_id),
     counted AS (
       SELECT s.video_id,
              count(*) FILTER (WHERE s.rated AND fans.who IS NOT NULL) AS rated_friends,
              count(*) FILTER (WHERE s.rated) AS rated_following,
              count(*) FILTER (WHERE NOT s.rated AND fans.who IS NOT NULL) AS watched_friends,
              count(*) FILTER (WHERE NOT s.rated) AS watched_following,
              count(DISTINCT s.who) FILTER (WHERE extract(epoch FROM s.at)::bigint >= $3
                                            AND fans.who IS NOT NULL) AS recent_friends
       FROM signals s LEFT JOIN fans ON fans.who = s.who
       JOIN videos v ON v.id = s.video_id
       WHERE v.owner_id <> $1 AND v.visibility IN ('public', 'private')
         AND s.video_id NOT IN (SELECT video_id FROM watches WHERE user_id = $1
                                UNION SELECT video_id FROM ratings WHERE user_id = $1)
       GROUP BY s.video_id)
SELECT c.video_id::text AS id, rated_friends, rated_following, watched_friends, watched_following,
       recent_friends,
       3 * rated_friends + 2 * rated_following + 2 * watched_friends + watched_following
         + 3 * recent_friends AS score,
       (SELECT count(*) FROM ratings r WHERE r.video_id = c.video_id AND r.stars >= 4)
         + (SELECT count(*) FROM watches w WHERE w.video_id = c.video_id) AS popularity
FROM counted c
ORDER BY score DESC, popularity DESC, id ASC
LIMIT $4
"""


@dataclass
class Network:
    db: Database
    graph: Graph
    users: list[uuid.UUID]


def _network_rows(rnd: random.Random) -> dict[str, list[tuple[Any, ...]]]:
    """About 150 users, follows with a heavy tail both ways, some returned; blocks, mutes,
    dismissals; videos with ratings and watches. Every follow has a second of its own."""
    users = [uuid.UUID(int=rnd.getrandbits(128), version=4) for _ in range(150)]
    now = datetime.now(UTC).replace(microsecond=0)

    def popular(count: int) -> int:
        return int(count * rnd.random() ** 2.5)

    pairs: set[tuple[int, int]] = set()
    for a in range(len(users)):
        for _ in range(min(60, int(rnd.lognormvariate(1.0, 1.1)))):
            b = popular(len(users))
            if a != b:
                pairs.add((a, b))
    for a, b in rnd.sample(sorted(pairs), len(pairs) // 5):
        pairs.add((b, a))
    order = rnd.sample(sorted(pairs), len(pairs))
    videos = [(uuid.UUID(int=rnd.getrandbits(128), version=4), users[popular(150)]) for _ in range(60)]

    def some(count: int) -> set[tuple[int, int]]:
        return {(a, b) for a, b in ((rnd.randrange(150), popular(150)) for _ in range(count)) if a != b}

    ratings = {(rnd.randrange(150), rnd.randrange(60)) for _ in range(300)}
    watches = {(rnd.randrange(150), rnd.randrange(60)) for _ in range(300)}
    return {
        "users": [(user, f"net{n}_{uuid.uuid4().hex[:6]}") for n, user in enumerate(users)],
        "follows": [(users[a], users[b], now - timedelta(seconds=n)) for n, (a, b) in enumerate(order)],
        **{table: [(users[a], users[b]) for a, b in some(15)] for table in ("blocks", "mutes")},
        "suggestion_dismissals": [(users[a], users[b]) for a, b in some(15)],
        "videos": [
            (video, owner, "clip", rnd.choice(["public"] * 8 + ["unlisted", "private"]))
            for video, owner in videos
        ],
        "ratings": [
            (videos[v][0], users[u], rnd.randint(1, 5), now - timedelta(days=rnd.random() * 14))
            for u, v in ratings
        ],
        "watches": [(users[u], videos[v][0], now - timedelta(days=rnd.random() * 14)) for u, v in watches],
    }


async def _load(url: str, rows: dict[str, list[tuple[Any, ...]]]) -> None:
    columns = {
        "users": ("id", "handle"),
        "follows": ("follower_id", "followee_id", "created_at"),
        "blocks": ("blocker_id", "blocked_id"),
        "mutes": ("muter_id", "muted_id"),
        "suggestion_dismissals": ("user_id", "dismissed_id"),
        "videos": ("id", "owner_id", "title", "visibility"),
        "ratings": ("video_id", "user_id", "stars", "updated_at"),
        "watches": ("user_id", "video_id", "last_watched_at"),
    }
    connection = await asyncpg.connect(url)
    try:
        for table, names in columns.items():
            await connection.copy_records_to_table(table, records=rows[table], columns=names)
    finally:
        await connection.close()


@pytest.fixture(scope="module", params=BACKENDS)
async def network(request: pytest.FixtureRequest, databases: DatabaseFactory) -> AsyncIterator[Network]:
    rows = _network_rows(random.Random(15))
    db = Database("main", await databases.create_migrated("main"))
    await db.start(max_size=2)
    url, name = await backend_url(request, request.param)
    graph: Graph = FalkorGraph(url, name) if request.param == "falkordb" else Neo4jGraph(url)
    try:
        await _load(db.url, rows)
        await rebuild(db, graph)
        yield Network(db, graph, [row[0] for row in rows["users"]])
    finally:
        await clear(graph)
        await graph.close()
        await db.stop()


async def _sql(db: Database, sql: str, *args: Any) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(db.url)
    try:
        return list(await connection.fetch(sql, *args))
    finally:
        await connection.close()


async def _pymk(graph: Graph, user: uuid.UUID, paths: int, limit: int) -> list[tuple[str, int, int]]:
    rows = await graph.run(
        queries.PEOPLE_YOU_MAY_KNOW, user=str(user), limit=limit, paths=paths, withdrawn=[]
    )
    return [(row["id"], int(row["mutual"]), int(row["followers"])) for row in rows]


async def test_people_you_may_know_are_exact_within_the_budget_and_bounded_beyond(network: Network) -> None:
    db, graph = network.db, network.graph
    paths = {
        row["user_id"]: row["paths"]
        for row in await _sql(
            db,
            "SELECT a.follower_id AS user_id, count(*) AS paths FROM follows a"
            " JOIN follows b ON b.follower_id = a.followee_id GROUP BY a.follower_id",
        )
    }
    ordinary = [user for user in network.users if 0 < paths.get(user, 0) <= BUDGET]
    heavy = [user for user in network.users if paths.get(user, 0) > BUDGET]
    assert len(ordinary) >= 30 and len(heavy) >= 15, (len(ordinary), len(heavy))  # both kinds present

    suggestions = PeopleSuggestions(db, graph, cache_seconds=0, path_budget=BUDGET)
    compared = 0
    for user in ordinary:
        exact = [(row["id"], row["mutual"], row["followers"]) for row in await _sql(db, PYMK_SQL, user, 60)]
        ranked = [
            (row["id"], int(row["mutual"]), int(row["followers"])) for row in await suggestions.ranked(user)
        ]
        assert ranked == exact, user
        assert await _pymk(graph, user, UNBOUNDED, 60) == exact, user
        compared += bool(exact)
    assert compared >= 20  # rankings with candidates in them, not only empty ones

    for user in heavy:
        bounded = await _pymk(graph, user, BUDGET, 10_000)
        exact_mutual = {row["id"]: row["mutual"] for row in await _sql(db, PYMK_SQL, user, 10_000)}
        assert bounded and sum(mutual for _, mutual, _ in bounded) <= BUDGET
        assert {candidate for candidate, _, _ in bounded} <= set(exact_mutual)
        assert all(mutual <= exact_mutual[candidate] for candidate, mutual, _ in bounded)
        assert bounded == sorted(bounded, key=lambda row: (-row[1], row[2], row[0]))
        # The people followed most recently are counted in full, as far as the budget goes.
        followees = await _sql(
            db,
            "SELECT f.followee_id, (SELECT count(*) FROM follows x WHERE x.follower_id = f.followee_id) AS n"
            " FROM follows f WHERE f.follower_id = $1 ORDER BY f.created_at DESC",
            user,
        )
        counted: Counter[str] = Counter()
        spent = 0
        for followee in followees:
            if spent + followee["n"] > BUDGET:
                break
            spent += followee["n"]
            for row in await _sql(db, "SELECT followee_id FROM follows WHERE follower_id = $1", followee[0]):
                counted[str(row["followee_id"])] += 1
        got = {candidate: mutual for candidate, mutual, _ in bounded}
        assert all(got.get(c, 0) >= n for c, n in counted.items() if c in exact_mutual), user


async def test_video_picks_are_exact_within_the_budget_and_bounded_beyond(network: Network) -> None:
    db, graph = network.db, network.graph
    since = int(time.time()) - TRENDING_DAYS * 86_400
    signals = {
        row["user_id"]: row["n"]
        for row in await _sql(
            db,
            "SELECT f.follower_id AS user_id, count(*) AS n FROM follows f JOIN"
            " (SELECT user_id FROM ratings UNION ALL SELECT user_id FROM watches) s"
            " ON s.user_id = f.followee_id GROUP BY f.follower_id",
        )
    }
    budget = 12
    ordinary = [user for user in network.users if 0 < signals.get(user, 0) <= budget]
    heavy = [user for user in network.users if signals.get(user, 0) > 3 * budget]
    assert len(ordinary) >= 20 and len(heavy) >= 10, (len(ordinary), len(heavy))

    async def picks(user: uuid.UUID, paths: int) -> list[tuple[Any, ...]]:
        rows = await graph.run(
            queries.SOCIAL_VIDEOS,
            user=str(user),
            stars=GOOD_STARS,
            since=since,
            limit=1000,
            paths=paths,
            withdrawn=[],
        )
        return [tuple(int(value) if key != "id" else value for key, value in row.items()) for row in rows]

    compared = 0
    for user in ordinary:
        exact = [tuple(row.values()) for row in await _sql(db, VIDEOS_SQL, user, GOOD_STARS, since, 1000)]
        assert await picks(user, budget) == exact, user
        assert await picks(user, UNBOUNDED) == exact, user
        compared += bool(exact)
    assert compared >= 10
    for user in heavy:
        bounded = await picks(user, budget)
        full = {row[0]: row for row in await picks(user, UNBOUNDED)}
        # Each (person, video) signal counts once in rated_following or watched_following.
        assert bounded and sum(row[2] + row[4] for row in bounded) <= budget
        assert all(row[2] <= full[row[0]][2] and row[4] <= full[row[0]][4] for row in bounded)


async def _paths(db: Database) -> dict[uuid.UUID, int]:
    rows = await _sql(
        db,
        "SELECT a.follower_id AS user_id, count(*) AS paths FROM follows a"
        " JOIN follows b ON b.follower_id = a.followee_id GROUP BY a.follower_id",
    )
    return {row["user_id"]: row["paths"] for row in rows}


async def _exact_people(db: Database, user: uuid.UUID) -> list[dict[str, Any]]:
    return [dict(row) for row in await _sql(db, PYMK_SQL, user, 60)]


async def test_heavy_users_get_the_exact_rankings_precomputed_and_served(network: Network) -> None:
    db, graph = network.db, network.graph
    now = time.time()
    threshold = 12  # low, so that enough users are heavy for video picks too
    rankings = PrecomputedRankings(db, graph, above_paths=threshold, clock=lambda: now)
    paths = await _paths(db)
    heavy = [user for user in network.users if paths.get(user, 0) > threshold]
    light = [user for user in network.users if 0 < paths.get(user, 0) <= threshold]
    report = await rankings.refresh_all()
    assert report.users >= len(heavy) >= 15 and light and report.dropped == 0

    suggestions = PeopleSuggestions(db, graph, cache_seconds=0, path_budget=BUDGET)
    for user in heavy:
        exact = await _exact_people(db, user)
        state = await consent_and_ranking(db, user, "people")
        assert state.personal and state.ranking == exact, user  # no budget: the whole ranking
        served = await suggestions.suggest(Principal(id=user, handle="h", role="viewer"), 50)
        assert [(str(s.user.id), s.mutual_follows) for s in served] == [
            (row["id"], row["mutual"]) for row in exact[:50]
        ], user
    for user in light:  # nothing stored: ranked live, the same exact ranking
        assert (await consent_and_ranking(db, user, "people")).ranking is None
        served = await suggestions.suggest(Principal(id=user, handle="h", role="viewer"), 50)
        assert [(str(s.user.id), s.mutual_follows) for s in served] == [
            (row["id"], row["mutual"]) for row in (await _exact_people(db, user))[:50]
        ], user

    # Video picks: the stored ranking is the exact one (SQL), served in its order.
    since = int(now) - TRENDING_DAYS * 86_400
    stored = {
        row["user_id"]: row["ranking"]
        for row in await _sql(
            db, "SELECT user_id, ranking::text AS ranking FROM precomputed_rankings WHERE kind = 'videos'"
        )
    }
    assert len(stored) >= 10
    for user in stored:
        exact = [dict(row) for row in await _sql(db, VIDEOS_SQL, user, GOOD_STARS, since, 110)]
        state = await consent_and_ranking(db, user, "videos")
        assert state.ranking == exact, user


async def test_a_withdrawal_and_an_own_follow_apply_at_once_to_a_precomputed_ranking(
    network: Network,
) -> None:
    db, graph = network.db, network.graph
    rankings = PrecomputedRankings(db, graph, above_paths=BUDGET)
    paths = await _paths(db)
    user = max(network.users, key=lambda someone: paths.get(someone, 0))
    await rankings.refresh(user)
    assert (await consent_and_ranking(db, user, "people")).ranking == await _exact_people(db, user)

    # A followee withdraws personalization: the stored ranking (made with them) is not used.
    followee = (await _sql(db, "SELECT followee_id FROM follows WHERE follower_id = $1 LIMIT 1", user))[0][0]
    await _sql(db, "UPDATE users SET personalization = false WHERE id = $1", followee)
    try:
        state = await consent_and_ranking(db, user, "people")
        assert state.withdrawn == [str(followee)] and state.ranking is None
        await rankings.refresh(user)  # the next pass (or change) makes it with them left out
        state = await consent_and_ranking(db, user, "people")
        live = await graph.run(
            queries.PEOPLE_YOU_MAY_KNOW, user=str(user), limit=60, withdrawn=[str(followee)], paths=UNBOUNDED
        )
        assert state.ranking == [
            {key: int(v) if key != "id" else v for key, v in row.items()} for row in live
        ]
    finally:
        await _sql(db, "UPDATE users SET personalization = true WHERE id = $1", followee)

    # The user follows someone new: the projection of that change recomputes their ranking.
    handle = projecting_handler(Projector(db, graph), rankings)
    followed = {
        row[0] for row in await _sql(db, "SELECT followee_id FROM follows WHERE follower_id = $1", user)
    }
    newcomer = next(other for other in network.users if other != user and other not in followed)
    change = msgspec.json.encode(FollowChanged(str(user), str(newcomer)))
    await _sql(db, "INSERT INTO follows (follower_id, followee_id) VALUES ($1, $2)", user, newcomer)
    try:
        await handle(change, "k")
        assert (await consent_and_ranking(db, user, "people")).ranking == await _exact_people(db, user)
    finally:
        await _sql(db, "DELETE FROM follows WHERE follower_id = $1 AND followee_id = $2", user, newcomer)
        await handle(change, "k")
    assert (await consent_and_ranking(db, user, "people")).ranking == await _exact_people(db, user)


async def test_users_no_longer_heavy_lose_their_stored_rankings(network: Network) -> None:
    db, graph = network.db, network.graph
    await PrecomputedRankings(db, graph, above_paths=BUDGET).refresh_all()
    stored = len(await _sql(db, "SELECT 1 FROM precomputed_rankings"))
    assert stored > 0
    report = await PrecomputedRankings(db, graph, above_paths=10**9).refresh_all()
    assert (report.users, report.dropped) == (0, stored)
    assert not await _sql(db, "SELECT 1 FROM precomputed_rankings")
    # The services still answer everyone, live, bounded.
    recommendations = VideoRecommendations(db, graph, VideoService(db), path_budget=BUDGET)
    viewer = Principal(id=network.users[0], handle="h", role="viewer")
    assert isinstance(await recommendations.recommend(viewer, 10), list)


async def test_one_users_paths_are_counted_as_in_the_pass(network: Network) -> None:
    """The count after one user's change (through the indexes) agrees with the pass's (one scan)."""
    db = network.db
    for kind in ("people", "videos"):
        rows = await db.fetch(paths_sql(kind, one_user=False), 0)
        everyone = {row["user_id"]: row["paths"] for row in rows}
        assert len(everyone) >= 50
        for user in network.users:
            one = await db.fetch(paths_sql(kind, one_user=True), user, 0)
            assert [row["paths"] for row in one] == ([everyone[user]] if user in everyone else []), user


async def _stored(db: Database, user: uuid.UUID, kind: str) -> asyncpg.Record | None:
    rows = await _sql(
        db,
        "SELECT ranking::text AS ranking, stale_at, paths FROM precomputed_rankings"
        " WHERE user_id = $1 AND kind = $2",
        user,
        kind,
    )
    return rows[0] if rows else None


async def test_everyone_who_follows_someone_gets_the_exact_rankings_stored(network: Network) -> None:
    """The default: rankings stored for every user who follows someone, each the exact one; a
    user who follows nobody is answered without the graph."""
    db, graph = network.db, network.graph
    now = time.time()
    report = await PrecomputedRankings(db, graph, clock=lambda: now).refresh_all()
    following = {row[0] for row in await _sql(db, "SELECT DISTINCT follower_id FROM follows")}
    personal = {row[0] for row in await _sql(db, "SELECT id FROM users WHERE personalization")}
    assert report.users == 2 * len(following & personal) and len(following) >= 100

    since = int(now) - TRENDING_DAYS * 86_400
    for user in network.users:
        state = await consent_and_ranking(db, user, "people")
        if user not in following:
            assert state.ranking == [] and await _stored(db, user, "people") is None
            continue
        assert state.ranking == await _exact_people(db, user), user
        videos = await consent_and_ranking(db, user, "videos")
        assert videos.ranking == [
            dict(row) for row in await _sql(db, VIDEOS_SQL, user, GOOD_STARS, since, 110)
        ]

    # Nobody followed: nothing to rank, and the graph is not asked (this service has none to ask).
    loner = next(user for user in network.users if user not in following)
    no_graph = PeopleSuggestions(db, graph=None, cache_seconds=0)
    with pytest.raises(ServiceUnavailable, match="no graph database"):  # a server without a graph: 503
        await no_graph.suggest(Principal(id=loner, handle="h", role="viewer"), 10)
    counted = _CountingGraph(graph)
    assert (
        await PeopleSuggestions(db, counted, cache_seconds=0).suggest(
            Principal(id=loner, handle="h", role="viewer"), 10
        )
        == []
    )
    assert counted.reads == 0


class _CountingGraph(Graph):
    """The real graph, counting the reads it is asked for; ``before`` runs before each one."""

    def __init__(self, real: Graph, before: Any = None) -> None:
        super().__init__()
        self.real, self.dialect, self.reads, self.before = real, real.dialect, 0, before

    async def _execute(self, cypher: str, params: Any, *, write: bool) -> list[dict[str, Any]]:
        self.reads += not write
        if self.before is not None:
            await self.before()
        return await self.real._execute(cypher, params, write=write)

    async def close(self) -> None:
        pass


async def test_a_followees_new_follow_makes_the_ranking_stale_until_the_sweep(network: Network) -> None:
    db, graph = network.db, network.graph
    rankings = PrecomputedRankings(db, graph)
    await rankings.refresh_all()
    paths = await _paths(db)
    suggestions = PeopleSuggestions(db, graph, cache_seconds=0)
    handle = projecting_handler(Projector(db, graph), rankings)
    # A light user, a person they follow, and someone new for that person to follow.
    user, followee, newcomer = None, None, None
    for candidate in sorted(network.users, key=lambda someone: paths.get(someone, 0)):
        if not 0 < paths.get(candidate, 0) <= BUDGET:
            continue
        followees = [
            row[0]
            for row in await _sql(db, "SELECT followee_id FROM follows WHERE follower_id = $1", candidate)
        ]
        for middle in followees:
            theirs = {
                row[0]
                for row in await _sql(db, "SELECT followee_id FROM follows WHERE follower_id = $1", middle)
            }
            others = [
                u
                for u in network.users
                if u not in theirs and u not in followees and u not in (candidate, middle)
            ]
            if others:
                user, followee, newcomer = candidate, middle, others[0]
                break
        if user:
            break
    assert user and followee and newcomer
    fans = [
        row[0] for row in await _sql(db, "SELECT follower_id FROM follows WHERE followee_id = $1", followee)
    ]
    before = (await consent_and_ranking(db, user, "people")).ranking
    assert before == await _exact_people(db, user)

    change = msgspec.json.encode(FollowChanged(str(followee), str(newcomer)))
    await _sql(db, "INSERT INTO follows (follower_id, followee_id) VALUES ($1, $2)", followee, newcomer)
    try:
        await handle(change, "k")
        # Every fan's stored ranking is stale; this light user's is not served: ranked live, exact.
        for fan in fans:
            stored = await _stored(db, fan, "people")
            assert stored is not None and stored["stale_at"] is not None, fan
        assert (await consent_and_ranking(db, user, "people")).ranking is None
        exact = await _exact_people(db, user)
        assert exact != before  # the new follow counts
        served = await suggestions.suggest(Principal(id=user, handle="h", role="viewer"), 50)
        assert [(str(s.user.id), s.mutual_follows) for s in served] == [
            (row["id"], row["mutual"]) for row in exact[:50]
        ]
        # The sweep recomputes them all: fresh and exact again.
        assert await rankings.sweep(limit=10_000) >= len(fans)
        assert await rankings.sweep() == 0
        state = await consent_and_ranking(db, user, "people")
        assert state.ranking == exact
    finally:
        await _sql(db, "DELETE FROM follows WHERE follower_id = $1 AND followee_id = $2", followee, newcomer)
        await handle(change, "k")
        await rankings.sweep(limit=10_000)
    assert (await consent_and_ranking(db, user, "people")).ranking == before


async def test_a_heavy_users_stale_ranking_is_served_until_the_sweep(network: Network) -> None:
    """Beyond the path budget the live read would be bounded: the stale exact ranking is better."""
    db, graph = network.db, network.graph
    rankings = PrecomputedRankings(db, graph)
    paths = await _paths(db)
    user = max(network.users, key=lambda someone: paths.get(someone, 0))
    await rankings.refresh(user)
    stored = (await consent_and_ranking(db, user, "people")).ranking
    assert stored
    await _sql(
        db, "UPDATE precomputed_rankings SET stale_at = now(), paths = $2 WHERE user_id = $1", user, 10**6
    )
    assert (await consent_and_ranking(db, user, "people")).ranking == stored
    assert await rankings.sweep(limit=10_000) >= 1
    after = await _stored(db, user, "people")
    assert after is not None and after["stale_at"] is None


async def test_a_ranking_marked_stale_while_it_is_computed_stays_stale(network: Network) -> None:
    """The mark may come from a change the computation's graph read did not see yet."""
    db, graph = network.db, network.graph
    paths = await _paths(db)
    user = next(someone for someone in network.users if paths.get(someone, 0) > 0)
    marking = _CountingGraph(
        graph,
        before=lambda: _sql(
            db, "UPDATE precomputed_rankings SET stale_at = clock_timestamp() WHERE user_id = $1", user
        ),
    )
    rankings = PrecomputedRankings(db, marking)
    await PrecomputedRankings(db, graph).refresh(user)  # a row to mark
    assert (await _stored(db, user, "people") or {})["stale_at"] is None

    await rankings.refresh(user)

    stored = await _stored(db, user, "people")
    assert stored is not None and stored["stale_at"] is not None
    assert await PrecomputedRankings(db, graph).sweep(limit=10_000) >= 1
    assert (await _stored(db, user, "people") or {})["stale_at"] is None


async def _a_stale_ranking(db: Database, graph: Graph) -> uuid.UUID:
    """A user who follows someone, with their rankings stored, then marked stale."""
    paths = await _paths(db)
    user = next(someone for someone in sorted(paths) if paths[someone] > 0)
    await PrecomputedRankings(db, graph).refresh(user)
    await _sql(db, "UPDATE precomputed_rankings SET stale_at = clock_timestamp() WHERE user_id = $1", user)
    return user


async def test_the_sweep_goes_on_after_a_failure(network: Network) -> None:
    """A failed turn (here the graph raising something unexpected) is logged and tried again."""
    db, graph = network.db, network.graph
    user = await _a_stale_ranking(db, graph)
    failures = 0

    async def fail_once() -> None:
        nonlocal failures
        if not failures:
            failures += 1
            raise RuntimeError("the graph said something unexpected")

    swept = asyncio.Event()

    class Watched(PrecomputedRankings):
        async def sweep(self, limit: int = 100) -> int:
            done = await super().sweep(limit)
            if not done:  # nothing stale left
                swept.set()
            return done

    sweeping = asyncio.create_task(
        Watched(db, _CountingGraph(graph, before=fail_once), sweep_seconds=0.05)._sweeping()
    )
    try:
        await asyncio.wait_for(swept.wait(), 30)
    finally:
        sweeping.cancel()
    assert failures == 1
    stored = await _stored(db, user, "people")
    assert stored is not None and stored["stale_at"] is None


async def test_the_jobs_work_only_while_active(network: Network) -> None:
    """Of many processes with the jobs on, the one whose outbox relay leads works (``active``)."""
    db, graph = network.db, network.graph
    user = await _a_stale_ranking(db, graph)
    rankings = PrecomputedRankings(db, graph, sweep_seconds=0.01)
    asked = 0
    looked = asyncio.Event()

    def not_leading() -> bool:
        nonlocal asked
        asked += 1
        if asked >= 10:  # the sweep and the passes have looked several times each
            looked.set()
        return False

    rankings.active = not_leading
    running = asyncio.create_task(rankings.run())
    try:
        await asyncio.wait_for(looked.wait(), 30)
    finally:
        running.cancel()
    stored = await _stored(db, user, "people")
    assert stored is not None and stored["stale_at"] is not None  # nothing was swept

    rankings.active = lambda: True
    assert await rankings.sweep(limit=10_000) >= 1

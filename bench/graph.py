"""The social graph at scale: people you may know and video recommendations on FalkorDB, beside
the same friends-of-friends query as SQL on PostgreSQL, in the same run.

    python -m bench.graph [--users 100000] [--follows 1000000] [--samples 1000]

A generated network is written to PostgreSQL with COPY (followees skewed towards popular users,
a fifth of the follows returned, so there are friends; a few blocks, mutes and dismissed
suggestions, so the exclusions have work to do), then loaded into FalkorDB by
``mydrtv graph rebuild``'s code (bulk ``UNWIND`` batches). Every measured query is uncached; the
graph and the SQL version of people-you-may-know alternate user by user, so noise on this shared
machine hits both alike. The cached figure of the suggestions service is reported on its own.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import asyncpg
import msgspec
from falkordb.asyncio import FalkorDB

from app.social.recommendations import GOOD_STARS, TRENDING_DAYS, VideoRecommendations
from app.social.suggestions import CANDIDATES, PeopleSuggestions
from app.videos.service import VideoService
from bench.harness import embedded_settings, latency_summary, write_results
from core.db import Database
from core.tokens import Principal
from graph import queries
from graph.falkordb import FalkorGraph
from graph.queries import Dialect
from graph.rebuild import rebuild

# The graph's PEOPLE_YOU_MAY_KNOW in SQL: the same candidates, exclusions and order. PostgreSQL has
# no follower count column (the graph's projector keeps one on each node), so it counts them.
FOF_SQL = """
WITH mine AS (SELECT followee_id FROM follows WHERE follower_id = $1)
SELECT f.followee_id AS id, count(DISTINCT f.follower_id) AS mutual,
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
# The same without the follower-count tie-break: what SQL costs when it need not count followers.
FOF_SQL_MUTUAL_ONLY = FOF_SQL.replace(
    "(SELECT count(*) FROM follows x WHERE x.followee_id = f.followee_id)", "0"
)

NOW = datetime.now(UTC)


def generate(args: argparse.Namespace) -> dict[str, list[tuple[Any, ...]]]:
    """Users, follows, videos, ratings and watches, reproducibly (``--seed``)."""
    rnd = random.Random(args.seed)
    users = [uuid.UUID(int=rnd.getrandbits(128), version=4) for _ in range(args.users)]

    def popular(count: int) -> int:  # a skewed pick: low indexes are the popular ones
        return int(count * rnd.random() ** 2.5)

    def moment(days: float) -> datetime:
        return NOW - timedelta(seconds=rnd.random() * days * 86_400)

    # How much each user follows: heavy-tailed, as in real networks (most follow a few people,
    # some follow thousands); whom: skewed towards popular users.
    activity = [rnd.lognormvariate(0, args.out_degree_sigma) for _ in range(args.users)]
    pairs: set[tuple[int, int]] = set()
    returned = args.follows // 5
    while len(pairs) < args.follows - returned:
        for a in rnd.choices(range(args.users), weights=activity, k=10_000):
            b = popular(args.users)
            if a != b and len(pairs) < args.follows - returned:
                pairs.add((a, b))
    for a, b in rnd.sample(sorted(pairs), len(pairs)):
        if len(pairs) >= args.follows:
            break
        pairs.add((b, a))
    visibilities = ["public"] * 18 + ["unlisted", "private"]
    videos = [
        (
            uuid.UUID(int=rnd.getrandbits(128), version=4),
            users[rnd.randrange(args.users)],
            rnd.choice(visibilities),
        )
        for _ in range(args.videos)
    ]

    def some_pairs(count: int) -> set[tuple[int, int]]:  # blocks, mutes, dismissals
        return {
            (a, b)
            for a, b in ((rnd.randrange(args.users), popular(args.users)) for _ in range(count))
            if a != b
        }

    ratings = {(rnd.randrange(args.users), popular(args.videos)) for _ in range(args.ratings)}
    watches = {(rnd.randrange(args.users), popular(args.videos)) for _ in range(args.watches)}
    return {
        "users": [(user, f"u{n}") for n, user in enumerate(users)],
        "follows": [(users[a], users[b], moment(365)) for a, b in pairs],
        **{
            table: [(users[a], users[b]) for a, b in some_pairs(args.users // 10)]
            for table in ("blocks", "mutes", "suggestion_dismissals")
        },
        "videos": [(vid, owner, "clip", visibility, moment(365)) for vid, owner, visibility in videos],
        "ratings": [(videos[v][0], users[u], rnd.randint(1, 5), moment(60)) for u, v in ratings],
        "watches": [(users[u], videos[v][0], moment(60)) for u, v in watches],
    }


async def load_postgres(url: str, data: dict[str, list[tuple[Any, ...]]]) -> float:
    started = time.perf_counter()
    connection = await asyncpg.connect(url)
    try:
        copies = {
            "users": ("id", "handle"),
            "follows": ("follower_id", "followee_id", "created_at"),
            "blocks": ("blocker_id", "blocked_id"),
            "mutes": ("muter_id", "muted_id"),
            "suggestion_dismissals": ("user_id", "dismissed_id"),
            "videos": ("id", "owner_id", "title", "visibility", "created_at"),
            "ratings": ("video_id", "user_id", "stars", "updated_at"),
            "watches": ("user_id", "video_id", "last_watched_at"),
        }
        for table, columns in copies.items():
            await connection.copy_records_to_table(table, records=data[table], columns=columns)
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()
    return time.perf_counter() - started


async def timed(call: Callable[[], Awaitable[Any]]) -> float:
    started = time.perf_counter()
    await call()
    return (time.perf_counter() - started) * 1000


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--follows", type=int, default=1_000_000)
    parser.add_argument("--videos", type=int, default=10_000)
    parser.add_argument("--ratings", type=int, default=150_000)
    parser.add_argument("--watches", type=int, default=150_000)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument(
        "--out-degree-sigma", type=float, default=1.5, help="lognormal spread of follows per user"
    )
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--name", default="graph", help="results go to bench/results/<name>.json")
    args = parser.parse_args()

    def say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    data = generate(args)
    say(f"generated: { {name: len(rows) for name, rows in data.items()} }")
    async with embedded_settings() as settings:
        graph_url = f"falkor://127.0.0.1:{settings.embedded_redis_port}"
        copy_seconds = await load_postgres(settings.database_url, data)
        say(f"PostgreSQL loaded by COPY in {copy_seconds:.1f} s")
        db = Database("main", settings.database_url)
        await db.start(max_size=4)
        graph = FalkorGraph(graph_url, "bench")
        pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=2)
        try:
            report = await rebuild(db, graph)
            say(f"graph rebuilt in {report.seconds:.1f} s: {report.loaded}")
            results = await measure(args, graph_url, data, db, graph, pool)
        finally:
            await pool.close()
            await graph.close()
            await db.stop()
    results = {
        "out_degree_sigma": args.out_degree_sigma,
        "sizes": {name: len(rows) for name, rows in data.items()},
        "postgres_copy_seconds": round(copy_seconds, 1),
        "graph_rebuild_seconds": round(report.seconds, 1),
        **results,
    }
    say(msgspec.json.format(msgspec.json.encode(results)).decode())
    path = write_results(args.name, "python -m bench.graph " + " ".join(sys.argv[1:]), results)
    say(f"wrote {path}")


async def measure(
    args: argparse.Namespace,
    graph_url: str,
    data: dict[str, list[tuple[Any, ...]]],
    db: Database,
    graph: FalkorGraph,
    pool: asyncpg.Pool,
) -> dict[str, Any]:
    rnd = random.Random(args.seed + 1)
    followers = {row[0] for row in data["follows"]}
    people = [row[0] for row in data["users"] if row[0] in followers]  # users who follow someone
    sample = [rnd.choice(people) for _ in range(args.samples)]
    since = int(time.time()) - TRENDING_DAYS * 86_400

    async def pymk(user: uuid.UUID) -> list[Any]:
        return await graph.run(queries.PEOPLE_YOU_MAY_KNOW, user=str(user), limit=CANDIDATES, withdrawn=[])

    async def pymk_sql(user: uuid.UUID, sql: str = FOF_SQL) -> list[Any]:
        async with pool.acquire() as connection:
            return list(await connection.fetch(sql, user, CANDIDATES))

    async def social_videos(user: uuid.UUID) -> list[Any]:
        params = {"user": str(user), "stars": GOOD_STARS, "since": since, "limit": 30, "withdrawn": []}
        return await graph.run(queries.SOCIAL_VIDEOS, **params)

    # The two must agree before their speeds are compared.
    for user in sample[:20]:
        graph_ids = [(row["id"], int(row["mutual"]), int(row["followers"])) for row in await pymk(user)]
        sql_ids = [(str(row["id"]), row["mutual"], row["followers"]) for row in await pymk_sql(user)]
        assert graph_ids == sql_ids, (user, graph_ids[:5], sql_ids[:5])
    for user in sample[:100]:  # warm-up
        await pymk(user)
        await pymk_sql(user)
        await social_videos(user)

    # FalkorDB's own execution time of the same query, without the client and the network.
    client = await asyncio.to_thread(FalkorDB.from_url, graph_url)
    raw = client.select_graph(graph.name)
    internal_ms: list[float] = []

    graph_ms, sql_ms, sql_mutual_ms, candidates = [], [], [], []
    for user in sample:
        result = await raw.ro_query(
            queries.PEOPLE_YOU_MAY_KNOW.text(Dialect.FALKORDB),
            {"user": str(user), "limit": CANDIDATES, "withdrawn": []},
        )
        internal_ms.append(float(result.run_time_ms))
        graph_ms.append(await timed(partial(pymk, user)))
        sql_ms.append(await timed(partial(pymk_sql, user)))
        sql_mutual_ms.append(await timed(partial(pymk_sql, user, FOF_SQL_MUTUAL_ONLY)))
    for user in sample[:200]:
        candidates.append(len(await pymk(user)))
    videos_ms = [await timed(partial(social_videos, user)) for user in sample]

    principals = [Principal(id=user, handle="bench", role="viewer") for user in sample]
    uncached = PeopleSuggestions(db, graph, cache_seconds=0)
    cached = PeopleSuggestions(db, graph, cache_seconds=3600)
    recommendations = VideoRecommendations(db, graph, VideoService(db))
    service_ms = [await timed(partial(uncached.suggest, p, 10)) for p in principals]
    for principal in principals:
        await cached.suggest(principal, 10)
    cached_ms = [await timed(partial(cached.suggest, p, 10)) for p in principals]
    recommend_ms = [await timed(partial(recommendations.recommend, p, 10)) for p in principals]
    await client.connection.aclose()

    graph_summary, sql_summary = latency_summary(graph_ms), latency_summary(sql_ms)
    return {
        "samples": args.samples,
        "mean_candidates": round(sum(candidates) / len(candidates), 1),
        "people_you_may_know": {
            "graph_query": graph_summary,
            "graph_query_server_time": latency_summary(internal_ms),
            "sql_query": sql_summary,
            "sql_query_without_follower_counts": latency_summary(sql_mutual_ms),
            "sql_over_graph_p50": round(sql_summary["p50_ms"] / graph_summary["p50_ms"], 1),
            "sql_over_graph_p99": round(sql_summary["p99_ms"] / graph_summary["p99_ms"], 1),
            "service_uncached": latency_summary(service_ms),
            "service_cached": latency_summary(cached_ms),
        },
        "video_recommendations": {
            "graph_query": latency_summary(videos_ms),
            "service": latency_summary(recommend_ms),
        },
    }


if __name__ == "__main__":
    asyncio.run(main())

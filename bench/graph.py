"""The social graph at scale: people you may know and video recommendations on FalkorDB, on Neo4j
(when a server is given) and as SQL on PostgreSQL, side by side in one run on the same data.

    python -m bench.graph [--users 100000] [--follows 1000000] [--samples 1000] [--neo4j bolt://...]

With no ``--neo4j`` URL, the project's own embedded Neo4j (``graph/neo4j-server``) is started for
the run when Java (and Maven, to build it) are present (``--no-neo4j`` skips it); its JVM gets a
warm-up phase before anything is timed, so the timings are of compiled code.

A generated network is written to PostgreSQL with COPY (followees skewed towards popular users,
a fifth of the follows returned, so there are friends; a few blocks, mutes and dismissed
suggestions, so the exclusions have work to do), then loaded into each graph by
``mydrtv graph rebuild``'s code (bulk ``UNWIND`` batches), timing the follows on their own. Every
measured request is uncached; the backends alternate user by user (in a rotating order), so noise
on this shared machine hits all alike, in three phases with SQL beside each: the graph queries,
then the services, then the services live. The services are timed as the endpoints run them, in
this process, twice: with the users' rankings stored (``app/social/rankings.py``: consent and the
ranking in one PostgreSQL round trip, then the PostgreSQL checks), and live, as when a ranking is
stale or not stored yet (the graph read, exact within ``PATH_BUDGET`` and bounded beyond it,
between the same round trips). The rankings are computed before the timed phase for the sampled
and warm-up users only, heavy and light users apart, timed per ranking on each graph; a full
pass's time is estimated from those and the number of users of each kind.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
from falkordb.asyncio import FalkorDB

from app.social.rankings import STORE_ABOVE_PATHS, PrecomputedRankings, consent_and_ranking, paths_sql
from app.social.recommendations import GOOD_STARS, TRENDING_DAYS, VideoRecommendations
from app.social.recommendations import PATH_BUDGET as VIDEOS_BUDGET
from app.social.suggestions import CANDIDATES, PeopleSuggestions
from app.social.suggestions import PATH_BUDGET as PYMK_BUDGET
from app.videos.service import VideoService
from bench.harness import embedded_settings, latency_summary, percentile, write_results
from core.db import Database
from core.tokens import Principal
from graph import queries
from graph.base import Graph, Row
from graph.falkordb import FalkorGraph
from graph.neo4j import Neo4jGraph
from graph.queries import Dialect
from graph.rebuild import rebuild
from server.embedded import neo4j as embedded_neo4j_server
from support.services import embedded_neo4j

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

# Friend-of-friend paths of a user: within ``PATH_BUDGET``, the bounded query is the exact one.
PATHS_SQL = """
SELECT count(*) FROM follows a JOIN follows b ON b.follower_id = a.followee_id WHERE a.follower_id = $1
"""
UNBOUNDED = 10**9
FALKORDB_GRAPH = "bench"

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
        # Nearly all transcoded (playable): only those are recommended.
        "videos": [
            (vid, owner, "clip", visibility, moment(365), "ready" if rnd.random() < 0.98 else "processing")
            for vid, owner, visibility in videos
        ],
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
            "videos": ("id", "owner_id", "title", "visibility", "created_at", "status"),
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


class FollowLoadTimer(Graph):
    """A graph backend that notes how long its follow batches take during a rebuild."""

    def __init__(self, real: Graph) -> None:
        super().__init__()
        self.real, self.dialect, self.batch_size = real, real.dialect, real.batch_size
        self.follows_seconds = 0.0

    async def _execute(self, cypher: str, params: Mapping[str, Any], *, write: bool) -> list[Row]:
        started = time.perf_counter()
        rows = await self.real._execute(cypher, params, write=write)
        if cypher == queries.LOAD_FOLLOWS.text(self.dialect):
            self.follows_seconds += time.perf_counter() - started
        return rows

    async def close(self) -> None:
        await self.real.close()


async def load_graph(db: Database, graph: Graph) -> dict[str, float]:
    timer = FollowLoadTimer(graph)
    report = await rebuild(db, timer)
    return {"rebuild_seconds": round(report.seconds, 1), "follows_seconds": round(timer.follows_seconds, 1)}


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
    parser.add_argument(
        "--neo4j", default="", help="bolt://user:password@host:7687 of a Neo4j to compare; none: skipped"
    )
    parser.add_argument(
        "--no-neo4j", action="store_true", help="do not start the embedded Neo4j when no URL is given"
    )
    parser.add_argument("--neo4j-heap-mib", type=int, default=2048)
    parser.add_argument("--neo4j-page-cache-mib", type=int, default=1024)
    parser.add_argument(
        "--warmup", type=int, default=300, help="users (not the sampled ones) run through every call first"
    )
    parser.add_argument("--name", default="graph", help="results go to bench/results/<name>.json")
    args = parser.parse_args()

    def say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    data = generate(args)
    say(f"generated: { {name: len(rows) for name, rows in data.items()} }")
    neo4j_source = "given" if args.neo4j else ""
    with contextlib.ExitStack() as stack:
        if not args.neo4j and not args.no_neo4j:
            missing = embedded_neo4j_server.unavailable()
            if missing:
                say(f"Neo4j skipped: {missing}")
            else:
                root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="mydrtv-bench-neo4j-")))
                args.neo4j = stack.enter_context(
                    embedded_neo4j(
                        root, heap_mib=args.neo4j_heap_mib, page_cache_mib=args.neo4j_page_cache_mib
                    )
                )
                neo4j_source = (
                    f"embedded graph/neo4j-server, heap {args.neo4j_heap_mib} MiB, "
                    f"page cache {args.neo4j_page_cache_mib} MiB"
                )
                say(f"embedded Neo4j at {args.neo4j}")
        results = await run(args, data, say)
    results = {
        "load_average_at_start": results.pop("load_average_at_start"),
        "load_average_at_end": [round(value, 2) for value in os.getloadavg()],
        "neo4j": neo4j_source or "not run",
        **results,
    }
    say(msgspec.json.format(msgspec.json.encode(results)).decode())
    path = write_results(args.name, "python -m bench.graph " + " ".join(sys.argv[1:]), results)
    say(f"wrote {path}")


async def run(
    args: argparse.Namespace, data: dict[str, list[tuple[Any, ...]]], say: Callable[[str], None]
) -> dict[str, Any]:
    load_average = [round(value, 2) for value in os.getloadavg()]
    async with embedded_settings() as settings:
        copy_seconds = await load_postgres(settings.database_url, data)
        say(f"PostgreSQL loaded by COPY in {copy_seconds:.1f} s")
        db = Database("main", settings.database_url)
        await db.start(max_size=4)
        falkordb_url = f"falkor://127.0.0.1:{settings.embedded_redis_port}"
        graphs: dict[str, Graph] = {"falkordb": FalkorGraph(falkordb_url, FALKORDB_GRAPH)}
        if args.neo4j:
            graphs["neo4j"] = Neo4jGraph(args.neo4j)
        pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=2)
        try:
            loads = {}
            for name, graph in graphs.items():
                loads[name] = await load_graph(db, graph)
                say(f"{name} loaded: {loads[name]}")
            results = await measure(args, data, db, graphs, pool, falkordb_url)
        finally:
            await pool.close()
            for graph in graphs.values():
                await graph.close()
            await db.stop()
    return {
        "load_average_at_start": load_average,
        "out_degree_sigma": args.out_degree_sigma,
        "sizes": {name: len(rows) for name, rows in data.items()},
        "path_budget": {"people_you_may_know": PYMK_BUDGET, "video_recommendations": VIDEOS_BUDGET},
        "postgres_copy_seconds": round(copy_seconds, 1),
        "graph_load": loads,
        **results,
    }


async def measure(
    args: argparse.Namespace,
    data: dict[str, list[tuple[Any, ...]]],
    db: Database,
    graphs: dict[str, Graph],
    pool: asyncpg.Pool,
    falkordb_url: str = "",
) -> dict[str, Any]:
    rnd = random.Random(args.seed + 1)
    followers = {row[0] for row in data["follows"]}
    people = [row[0] for row in data["users"] if row[0] in followers]  # users who follow someone
    sample = [rnd.choice(people) for _ in range(args.samples)]
    since = int(time.time()) - TRENDING_DAYS * 86_400

    def pymk(graph: Graph, paths: int = PYMK_BUDGET) -> Callable[[uuid.UUID], Awaitable[Any]]:
        async def run(user: uuid.UUID) -> list[Any]:
            return await graph.run(
                queries.PEOPLE_YOU_MAY_KNOW, user=str(user), limit=CANDIDATES, paths=paths, withdrawn=[]
            )

        return run

    def social_videos(graph: Graph) -> Callable[[uuid.UUID], Awaitable[Any]]:
        async def run(user: uuid.UUID) -> list[Any]:
            params = {"user": str(user), "stars": GOOD_STARS, "since": since, "limit": 30, "withdrawn": []}
            return await graph.run(queries.SOCIAL_VIDEOS, **params, paths=VIDEOS_BUDGET)

        return run

    async def pymk_sql(user: uuid.UUID, sql: str = FOF_SQL) -> list[Any]:
        async with pool.acquire() as connection:
            return list(await connection.fetch(sql, user, CANDIDATES))

    async def paths_of(user: uuid.UUID) -> int:
        async with pool.acquire() as connection:
            count: int = await connection.fetchval(PATHS_SQL, user)
            return count

    # What is compared must agree first: every graph with no bound and SQL on 20 users; the
    # bounded query and SQL on every sampled user within the budget.
    ordinary, path_counts = 0, []
    for n, user in enumerate(sample):
        path_counts.append(await paths_of(user))
        within = path_counts[-1] <= PYMK_BUDGET
        ordinary += within
        if n >= 20 and not within:
            continue
        sql_rows = [(str(row["id"]), row["mutual"], row["followers"]) for row in await pymk_sql(user)]
        for name, graph in graphs.items():
            for paths in [UNBOUNDED] * (n < 20) + [PYMK_BUDGET] * within:
                rows = await pymk(graph, paths)(user)
                got = [(row["id"], int(row["mutual"]), int(row["followers"])) for row in rows]
                assert got == sql_rows, (name, paths, user, got[:5], sql_rows[:5])

    sampled = set(sample)
    others = [user for user in people if user not in sampled]
    warmup = rnd.sample(others, min(args.warmup, len(others)))
    principal = {user: Principal(id=user, handle="bench", role="viewer") for user in [*sample, *warmup]}

    # Rankings computed as the background pass does, by each graph in turn, heavy and light users
    # apart (the table is shared: the last graph's rows are the ones served; both are checked
    # equal to SQL first). Only the sampled and warm-up users' rows are made; the pass's cost is
    # estimated from the cost per ranking of each kind of user.
    heavy = {
        kind: {row["user_id"] for row in await db.fetch(paths_sql(kind, one_user=False), PYMK_BUDGET)}
        for kind in ("people", "videos")
    }
    counting = time.perf_counter()  # what every pass does first, whatever its users
    stored_users = {
        kind: len(await db.fetch(paths_sql(kind, one_user=False), STORE_ABOVE_PATHS))
        for kind in ("people", "videos")
    }
    count_seconds = time.perf_counter() - counting
    precompute: dict[str, Any] = {
        "users_with_rankings": stored_users,
        "pass_counting_seconds": round(count_seconds, 1),
        "heavy_users": {kind: len(users) for kind, users in heavy.items()},
        "heavy_share_of_sample": {
            kind: round(sum(user in users for user in sample) / len(sample), 3)
            for kind, users in heavy.items()
        },
    }
    computed = [*sampled, *warmup]
    rankings_of = {
        "heavy": [user for user in computed if user in heavy["people"]],
        "light": [user for user in computed if user not in heavy["people"]],
    }
    for name, graph in graphs.items():
        precompute[name] = {}
        for kind_of_user, users in rankings_of.items():
            report = await PrecomputedRankings(db, graph).refresh_all(users=users)
            computing = report.seconds - count_seconds  # the pass counted every user's paths first
            precompute[name][f"{kind_of_user}_users"] = {
                "users": len(users),
                "rankings": report.users,  # people and videos
                "seconds": round(report.seconds, 1),
                "ms_per_user": round(1000 * computing / max(len(users), 1), 1),
            }
        per_user = {kind: precompute[name][f"{kind}_users"]["ms_per_user"] for kind in rankings_of}
        light_users = stored_users["people"] - len(heavy["people"])  # everyone who follows someone
        precompute[name]["full_pass_minutes_estimated"] = round(
            (
                1000 * count_seconds
                + len(heavy["people"]) * per_user["heavy"]
                + light_users * per_user["light"]
            )
            / 60_000,
            1,
        )
        print(f"{name}: {precompute[name]}", file=sys.stderr)
        checked: Counter[bool] = Counter()
        for user in sample:
            is_heavy = user in heavy["people"]
            if checked[is_heavy] < 20:
                state = await consent_and_ranking(db, user, "people")
                expected = [
                    {"id": str(row["id"]), "mutual": row["mutual"], "followers": row["followers"]}
                    for row in await pymk_sql(user)
                ]
                assert state.ranking == expected, (name, user)
                checked[is_heavy] += 1

    async def suggest(service: PeopleSuggestions, user: uuid.UUID) -> Any:
        return await service.suggest(principal[user], 10)

    pages: list[int] = []  # recommendations per page asked: a full page says the picks are playable

    async def recommend(service: VideoRecommendations, user: uuid.UUID) -> Any:
        picks = await service.recommend(principal[user], 10)
        pages.append(len(picks))
        return picks

    # Three phases, each with SQL beside it: the graph queries; the services with the rankings
    # stored (their request reads PostgreSQL only); the services live. The services are not timed
    # among the exact graph queries: on these 2 CPUs the graph server's work after an exact query
    # (Neo4j's JVM above all) would land on the next call, which in production runs elsewhere.
    Calls = dict[str, Callable[[uuid.UUID], Awaitable[Any]]]
    queries_phase: Calls = {
        "sql": pymk_sql,
        "sql_without_follower_counts": partial(pymk_sql, sql=FOF_SQL_MUTUAL_ONLY),
    }
    services_phase: Calls = {"sql_beside_services": pymk_sql}
    live_phase: Calls = {"sql_beside_live": pymk_sql}
    for name, graph in graphs.items():
        queries_phase[f"{name}_query"] = pymk(graph)
        queries_phase[f"{name}_exact_query"] = pymk(graph, UNBOUNDED)
        queries_phase[f"{name}_videos_query"] = social_videos(graph)
        for phase, suffix in ((services_phase, "service"), (live_phase, "live")):
            phase[f"{name}_suggestions_{suffix}"] = partial(
                suggest, PeopleSuggestions(db, graph, cache_seconds=0)
            )
            phase[f"{name}_recommendations_{suffix}"] = partial(
                recommend, VideoRecommendations(db, graph, VideoService(db))
            )
    # Warm-up on other users: the JVM compiles Neo4j's hot paths only after many runs, and every
    # graph's query plans get cached, so the timings below are of the steady state.
    for user in warmup:
        for call in [*queries_phase.values(), *services_phase.values()]:
            await call(user)

    timings: dict[str, list[float]] = {}

    async def rotate(calls: Calls) -> None:
        names = list(calls)
        for n, user in enumerate(sample):
            for name in names[n % len(names) :] + names[: n % len(names)]:
                timings.setdefault(name, []).append(await timed(partial(calls[name], user)))

    await rotate(queries_phase)
    await rotate(services_phase)
    # Live: the sampled users' stored rankings dropped, as when stale or not made yet.
    await db.fetch("DELETE FROM precomputed_rankings WHERE user_id = ANY({})", sample)
    await rotate(live_phase)

    summary = {name: latency_summary(values) for name, values in timings.items()}
    light_people = [n for n, user in enumerate(sample) if user not in heavy["people"]]
    light_videos = [n for n, user in enumerate(sample) if user not in heavy["videos"]]

    def split(name: str, light: list[int]) -> dict[str, Any]:
        """A service's timings for light users (within the path budget) and heavy ones."""
        lights = set(light)
        values = timings[name]
        return {
            "light_users": latency_summary([values[n] for n in light]),
            "heavy_users": latency_summary([v for n, v in enumerate(values) if n not in lights]),
        }

    if falkordb_url:  # FalkorDB's own execution time, without the client and the network
        client = await asyncio.to_thread(FalkorDB.from_url, falkordb_url)
        raw = client.select_graph(FALKORDB_GRAPH)
        server_ms: dict[str, list[float]] = {"query": [], "exact_query": []}
        for user in sample:
            for name, budget in (("query", PYMK_BUDGET), ("exact_query", UNBOUNDED)):
                params = {"user": str(user), "limit": CANDIDATES, "paths": budget, "withdrawn": []}
                result = await raw.ro_query(queries.PEOPLE_YOU_MAY_KNOW.text(Dialect.FALKORDB), params)
                server_ms[name].append(float(result.run_time_ms))
        await client.connection.aclose()

    def ratio(slow: str, fast: str) -> dict[str, float]:
        return {
            quantile: round(summary[slow][f"{quantile}_ms"] / summary[fast][f"{quantile}_ms"], 1)
            for quantile in ("p50", "p99")
        }

    people_you_may_know: dict[str, Any] = {
        "sql_query": summary["sql"],
        "sql_query_beside_services": summary["sql_beside_services"],
        "sql_query_beside_live": summary["sql_beside_live"],
        "sql_query_without_follower_counts": summary["sql_without_follower_counts"],
    }
    videos: dict[str, Any] = {}
    for name in graphs:
        people_you_may_know[name] = {
            "query": summary[f"{name}_query"],
            "exact_query": summary[f"{name}_exact_query"],
            "service_uncached": summary[f"{name}_suggestions_service"],
            "service_uncached_by_user": split(f"{name}_suggestions_service", light_people),
            "service_live": summary[f"{name}_suggestions_live"],
            "service_live_by_user": split(f"{name}_suggestions_live", light_people),
            "sql_over_query": ratio("sql", f"{name}_query"),
            "sql_over_service": ratio("sql_beside_services", f"{name}_suggestions_service"),
            "sql_over_service_live": ratio("sql_beside_live", f"{name}_suggestions_live"),
        }
        if name == "falkordb" and falkordb_url:
            people_you_may_know[name] |= {
                f"{query}_server_time": latency_summary(values) for query, values in server_ms.items()
            }
        videos[name] = {
            "query": summary[f"{name}_videos_query"],
            "service": summary[f"{name}_recommendations_service"],
            "service_by_user": split(f"{name}_recommendations_service", light_videos),
            "service_live": summary[f"{name}_recommendations_live"],
            "service_live_by_user": split(f"{name}_recommendations_live", light_videos),
        }
    for name in graphs:
        if name != "falkordb":
            people_you_may_know[f"{name}_over_falkordb"] = ratio(f"{name}_query", "falkordb_query")
            people_you_may_know[f"{name}_over_falkordb_service"] = ratio(
                f"{name}_suggestions_service", "falkordb_suggestions_service"
            )
    return {
        "samples": args.samples,
        "users_within_path_budget": round(ordinary / len(sample), 3),
        "friend_of_friend_paths": {
            "p50": int(percentile(path_counts, 0.5)),
            "p99": int(percentile(path_counts, 0.99)),
            "max": max(path_counts),
        },
        "precomputed_rankings": precompute,
        "people_you_may_know": people_you_may_know,
        "video_recommendations": videos,
        "recommendation_pages_full": round(sum(page == 10 for page in pages) / max(len(pages), 1), 3),
    }


if __name__ == "__main__":
    asyncio.run(main())

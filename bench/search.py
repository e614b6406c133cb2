"""Search at scale: 100 000 videos and 100 000 users on the embedded PostgreSQL.

    python -m bench.search [--videos 100000] [--users 100000] [--samples 2700]

A made-up vocabulary (Zipf-distributed, a few accented words) gives titles and descriptions;
handles are made of the same words. A tenth of the videos are private, unlisted or drafts, so
the filters have work to do; ratings and follows are skewed towards a few, so popularity orders
ties. Everything is loaded by COPY, then every query goes through ``PostgresSearch`` (the code
the API runs) as a signed-in viewer who has blocked some people. Queries are a mix of whole
words, two words, prefixes, typos (a letter dropped or changed) and accented spellings, and one
in five asks for a second page. The plans of the main queries are printed for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

import asyncpg
import msgspec
from piccolo.querystring import QueryString

from app.search import postgres
from app.search.postgres import PostgresSearch
from app.search.terms import parse
from bench.harness import embedded_settings, latency_summary, write_results
from core.db import Database
from core.tokens import Principal

SYLLABLES = [
    "ka",
    "ro",
    "len",
    "mi",
    "to",
    "sha",
    "vel",
    "dor",
    "in",
    "at",
    "bre",
    "lu",
    "na",
    "gor",
    "fi",
    "pen",
    "tal",
    "or",
    "sum",
    "ve",
    "ki",
    "do",
    "ran",
    "el",
]
ACCENTS = {"e": "é", "a": "á", "o": "ö", "u": "ü"}
STATUSES = ["ready"] * 9 + ["draft"]
VISIBILITIES = ["public"] * 18 + ["unlisted", "private"]


def vocabulary(rnd: random.Random, size: int) -> list[str]:
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rnd.choice(SYLLABLES) for _ in range(rnd.randint(2, 4))))
    return sorted(words)


def accented(word: str) -> str:
    return "".join(ACCENTS.get(c, c) for c in word)


def typo(rnd: random.Random, word: str) -> str:
    at = rnd.randrange(1, len(word))
    if rnd.random() < 0.5:
        return word[:at] + word[at + 1 :]
    return word[:at] + rnd.choice("abcdefghijklmnopqrstuvwxyz") + word[at + 1 :]


def generate(args: argparse.Namespace) -> tuple[dict[str, list[tuple[Any, ...]]], list[str]]:
    rnd = random.Random(args.seed)
    words = vocabulary(rnd, args.words)
    weights = [1 / (rank + 1) for rank in range(len(words))]  # Zipf: a few words are everywhere
    shown = {w: accented(w) if rnd.random() < 0.05 else w for w in words}  # some written with accents

    def text(low: int, high: int) -> str:
        return " ".join(shown[w] for w in rnd.choices(words, weights, k=rnd.randint(low, high)))

    users = [uuid.UUID(int=rnd.getrandbits(128), version=4) for _ in range(args.users)]
    handles: set[str] = set()
    while len(handles) < args.users:
        handles.add(f"{rnd.choice(words)}{rnd.choice(['', '_', '_tv_'])}{rnd.randrange(10_000)}"[:30])
    popular = [int(args.users * rnd.random() ** 3) for _ in range(args.follows)]
    videos = [
        (
            uuid.UUID(int=rnd.getrandbits(128), version=4),
            users[rnd.randrange(args.users)],
            text(2, 7).capitalize(),
            text(0, 40),
            rnd.choice(VISIBILITIES),
            rnd.choice(STATUSES),
        )
        for _ in range(args.videos)
    ]
    ratings = {(rnd.randrange(args.users), int(args.videos * rnd.random() ** 3)) for _ in range(args.ratings)}
    follows = {(rnd.randrange(args.users), b) for b in popular}
    blocks = {(rnd.randrange(args.users), rnd.randrange(args.users)) for _ in range(args.users // 10)}
    data: dict[str, list[tuple[Any, ...]]] = {
        "users": [(user, handle) for user, handle in zip(users, sorted(handles), strict=True)],
        "videos": videos,
        "ratings": [(videos[v][0], users[u], rnd.randint(1, 5)) for u, v in ratings],
        "follows": [(users[a], users[b]) for a, b in follows if a != b],
        "blocks": [(users[a], users[b]) for a, b in blocks if a != b]
        + [(users[0], users[rnd.randrange(args.users)]) for _ in range(50)],  # the viewer's own
    }
    return data, words


async def load(url: str, data: dict[str, list[tuple[Any, ...]]]) -> float:
    started = time.perf_counter()
    connection = await asyncpg.connect(url)
    try:
        columns = {
            "users": ("id", "handle"),
            "videos": ("id", "owner_id", "title", "description", "visibility", "status"),
            "ratings": ("video_id", "user_id", "stars"),
            "follows": ("follower_id", "followee_id"),
            "blocks": ("blocker_id", "blocked_id"),
        }
        for table, names in columns.items():
            await connection.copy_records_to_table(table, records=data[table], columns=names)
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()
    return time.perf_counter() - started


def query_makers(rnd: random.Random, words: list[str], handles: list[str]) -> dict[str, Callable[[], str]]:
    """One maker per kind of query people type."""
    return {
        "video_word": lambda: rnd.choice(words),
        "video_two_words": lambda: f"{rnd.choice(words)} {rnd.choice(words)}",
        "video_prefix": lambda: rnd.choice(words)[:4],
        "video_typo": lambda: typo(rnd, rnd.choice(words)),
        "video_accented": lambda: accented(rnd.choice(words)),
        "video_common_word": lambda: rnd.choice(words[:20]),
        "people_handle": lambda: rnd.choice(handles),
        "people_prefix": lambda: rnd.choice(handles)[:3],
        "people_typo": lambda: typo(rnd, rnd.choice(handles).split("_")[0].rstrip("0123456789")),
    }


async def measure(
    args: argparse.Namespace, db: Database, words: list[str], handles: list[str], viewer: Principal
) -> dict[str, Any]:
    rnd = random.Random(args.seed + 1)
    search = PostgresSearch(db)
    makers = query_makers(rnd, words, handles)
    kinds = list(makers)
    for _ in range(200):  # warm the caches and the prepared statements
        kind = rnd.choice(kinds)
        engine = search.videos if kind.startswith("video") else search.people
        await engine(parse(makers[kind]()), viewer, None, 20)
    latencies: dict[str, list[float]] = {kind: [] for kind in kinds}
    found: dict[str, list[int]] = {kind: [] for kind in kinds}
    for n in range(args.samples):
        kind = kinds[n % len(kinds)]
        engine = search.videos if kind.startswith("video") else search.people
        terms = parse(makers[kind]())
        started = time.perf_counter()
        page = await engine(terms, viewer, None, 20)
        if page.next_cursor is not None and rnd.random() < 0.2:
            page = await engine(terms, viewer, page.next_cursor, 20)  # a second page, timed with the first
        latencies[kind].append((time.perf_counter() - started) * 1000)
        found[kind].append(len(page.items))
    every = [ms for values in latencies.values() for ms in values]
    return {
        "all_queries": {"count": len(every), **latency_summary(every)},
        "by_kind": {
            kind: {
                "count": len(values),
                **latency_summary(values),
                "mean_items": round(sum(found[kind]) / len(found[kind]), 1),
            }
            for kind, values in latencies.items()
        },
    }


async def plans(url: str, viewer: Principal, words: list[str], handles: list[str]) -> dict[str, str]:
    """EXPLAIN ANALYZE of the main queries, with the parameters the engine would send."""
    cases = {
        "videos (common word)": (postgres.video_query, words[0]),
        "videos (typo)": (postgres.video_query, typo(random.Random(1), words[300])),
        "videos (first 4 letters of a word)": (postgres.video_query, words[300][:4]),
        "videos (short query, words only)": (postgres.video_query, "ka"),
        "people (handle prefix and typo)": (postgres.people_query, handles[500].split("_")[0][:6]),
    }
    connection = await asyncpg.connect(url)
    out: dict[str, str] = {}
    try:
        for name, (query, q) in cases.items():
            sql, args = query(parse(q), viewer.id, None, 20)
            text, values = QueryString(sql, *args).compile_string(engine_type="postgres")
            rows = await connection.fetch("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + text, *values)
            out[f"{name}: q={q!r}"] = "\n".join(row[0] for row in rows)
    finally:
        await connection.close()
    return out


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--videos", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--words", type=int, default=5_000)
    parser.add_argument("--ratings", type=int, default=300_000)
    parser.add_argument("--follows", type=int, default=300_000)
    parser.add_argument("--samples", type=int, default=2_700)
    parser.add_argument("--seed", type=int, default=19)
    args = parser.parse_args()

    def say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    data, words = generate(args)
    handles = [handle for _, handle in data["users"]]
    viewer = Principal(id=data["users"][0][0], handle=handles[0], role="viewer")
    say(f"generated: { {name: len(rows) for name, rows in data.items()} }")
    async with embedded_settings() as settings:
        copy_seconds = await load(settings.database_url, data)
        say(f"loaded by COPY (indexes built as rows arrive) in {copy_seconds:.1f} s")
        db = Database("main", settings.database_url)
        await db.start(max_size=2)
        load_before = os.getloadavg()
        try:
            results = await measure(args, db, words, handles, viewer)
        finally:
            await db.stop()
        load_after = os.getloadavg()
        explained = await plans(settings.database_url, viewer, words, handles)
    for name, plan in explained.items():
        say(f"\n-- {name}\n{plan}")
    results = {
        "sizes": {name: len(rows) for name, rows in data.items()},
        "load_seconds": round(copy_seconds, 1),
        # The machine's load average (1, 5, 15 min) as the queries start and end: a shared
        # machine's other work shows in the tails.
        "load_average": {"before": load_before, "after": load_after},
        **results,
        "plans": explained,
    }
    say(msgspec.json.format(msgspec.json.encode({k: v for k, v in results.items() if k != "plans"})).decode())
    path = write_results("search", "python -m bench.search " + " ".join(sys.argv[1:]), results)
    say(f"wrote {path}")


if __name__ == "__main__":
    asyncio.run(main())

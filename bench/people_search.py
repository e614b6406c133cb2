"""People search with display names, beside the handle-only search it extends (issue 19).

    python -m bench.people_search [--users 100000] [--samples 2000]

The users, handles, follows and blocks of ``bench.search`` (videos are not needed) in the main
database, and a profile with a display name for half of them in the identity database (two
words of the same vocabulary, capitalised, some accented). The same people queries (whole
handles, handle prefixes and typos, display-name words, their prefixes and typos, accented
spellings) go alternately to the baseline, ``PostgresSearch`` without profiles (handles only, as
before display names), and to ``PostgresSearch`` with profiles (handles, then display names in
the identity database), as a signed-in viewer who has blocked some people; latencies per engine
and per kind of query, and the plan of the identity database's query.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
from collections.abc import Callable
from typing import Any

import asyncpg
import msgspec
from piccolo.querystring import QueryString

from app.identity.profiles import ProfileStore, search_query
from app.profiles.service import ProfileService
from app.search.postgres import PostgresSearch, like_prefix
from app.search.terms import TRIGRAM_CHARS, parse
from bench.harness import embedded_settings, latency_summary, write_results
from bench.search import accented, generate, typo
from core.db import Database
from core.tokens import Principal


def display_names(rnd: random.Random, words: list[str], users: list[Any]) -> list[tuple[Any, str]]:
    """Half the users get a display name: two vocabulary words, capitalised, some accented."""
    named = []
    for user, _ in users:
        if rnd.random() < 0.5:
            first, last = rnd.choice(words), rnd.choice(words)
            if rnd.random() < 0.1:
                first = accented(first)
            named.append((user, f"{first.capitalize()} {last.capitalize()}"[:50]))
    return named


async def load(settings: Any, data: dict[str, list[tuple[Any, ...]]], names: list[tuple[Any, str]]) -> float:
    started = time.perf_counter()
    main = await asyncpg.connect(settings.database_url)
    identity = await asyncpg.connect(settings.identity_database_url)
    try:
        for table, columns in {
            "users": ("id", "handle"),
            "follows": ("follower_id", "followee_id"),
            "blocks": ("blocker_id", "blocked_id"),
        }.items():
            await main.copy_records_to_table(table, records=data[table], columns=columns)
        accounts = [(user, f"{handle}@example.com", "x") for user, handle in data["users"]]
        await identity.copy_records_to_table(
            "accounts", records=accounts, columns=("id", "email", "password_hash")
        )
        await identity.copy_records_to_table("profiles", records=names, columns=("account", "display_name"))
        await main.execute("VACUUM ANALYZE")
        await identity.execute("VACUUM ANALYZE")
    finally:
        await main.close()
        await identity.close()
    return time.perf_counter() - started


def query_makers(rnd: random.Random, handles: list[str], names: list[str]) -> dict[str, Callable[[], str]]:
    def name_word() -> str:
        return rnd.choice(rnd.choice(names).split())

    return {
        "handle": lambda: rnd.choice(handles),
        "handle_prefix": lambda: rnd.choice(handles)[:3],
        "handle_typo": lambda: typo(rnd, rnd.choice(handles).split("_")[0].rstrip("0123456789")),
        "name_full": lambda: rnd.choice(names),
        "name_word": name_word,
        "name_prefix": lambda: name_word()[:4],
        "name_typo": lambda: typo(rnd, name_word()),
        "name_unaccented_lower": lambda: rnd.choice(names).lower(),
    }


async def measure(
    args: argparse.Namespace,
    engines: dict[str, PostgresSearch],
    makers: dict[str, Callable[[], str]],
    viewer: Principal,
) -> dict[str, Any]:
    rnd = random.Random(args.seed + 2)
    kinds = list(makers)
    for _ in range(200):  # warm caches and prepared statements of both
        q = parse(makers[rnd.choice(kinds)]())
        for engine in engines.values():
            await engine.people(q, viewer, None, 20)
    latencies: dict[str, dict[str, list[float]]] = {name: {k: [] for k in kinds} for name in engines}
    found: dict[str, dict[str, list[int]]] = {name: {k: [] for k in kinds} for name in engines}
    for n in range(args.samples):
        kind = kinds[n % len(kinds)]
        terms = parse(makers[kind]())
        order = list(engines.items())
        if n % 2:
            order.reverse()  # interleaved, each engine first half the time
        for name, engine in order:
            started = time.perf_counter()
            page = await engine.people(terms, viewer, None, 20)
            latencies[name][kind].append((time.perf_counter() - started) * 1000)
            found[name][kind].append(len(page.items))
    out: dict[str, Any] = {}
    for name in engines:
        every = [ms for values in latencies[name].values() for ms in values]
        out[name] = {
            "all_queries": {"count": len(every), **latency_summary(every)},
            "by_kind": {
                kind: {
                    "count": len(values),
                    **latency_summary(values),
                    "mean_items": round(sum(found[name][kind]) / len(found[name][kind]), 1),
                }
                for kind, values in latencies[name].items()
            },
        }
    return out


async def plan(url: str, q: str) -> str:
    terms = parse(q)
    sql, *args = search_query(terms.text, like_prefix(terms.text), near=terms.letters >= TRIGRAM_CHARS)
    text, values = QueryString(sql, *args).compile_string(engine_type="postgres")
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + text, *values)
    finally:
        await connection.close()
    return "\n".join(row[0] for row in rows)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--words", type=int, default=5_000)
    parser.add_argument("--follows", type=int, default=300_000)
    parser.add_argument("--samples", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=19)
    args = parser.parse_args()
    generated = argparse.Namespace(videos=0, ratings=0, **vars(args))
    data, words = generate(generated)
    rnd = random.Random(args.seed + 1)
    names = display_names(rnd, words, data["users"])
    handles = [handle for _, handle in data["users"]]
    viewer = Principal(id=data["users"][0][0], handle=handles[0], role="viewer")
    async with embedded_settings() as settings:
        load_seconds = await load(settings, data, names)
        print(
            f"loaded {len(handles)} users, {len(names)} display names in {load_seconds:.1f} s",
            file=sys.stderr,
        )
        main_db = Database("main", settings.database_url)
        identity = Database("identity", settings.identity_database_url)
        await main_db.start(max_size=2)
        await identity.start(max_size=2)
        profiles = ProfileService(main_db, ProfileStore(identity, None), None)
        engines = {
            "handles_only (baseline)": PostgresSearch(main_db),
            "handles_and_display_names": PostgresSearch(main_db, profiles),
        }
        load_before = os.getloadavg()
        try:
            results = await measure(args, engines, query_makers(rnd, handles, [n for _, n in names]), viewer)
        finally:
            await identity.stop()
            await main_db.stop()
        load_after = os.getloadavg()
        example = names[7][1].split()[0][:-1]  # a display-name word with its last letter dropped
        explained = await plan(settings.identity_database_url, example)
    print(f"\n-- identity query, q={example!r}\n{explained}", file=sys.stderr)
    out = {
        "sizes": {"users": len(handles), "display_names": len(names), "follows": len(data["follows"])},
        "load_average": {"before": load_before, "after": load_after},
        "engines": results,
        "plan": {f"identity display-name query, q={example!r}": explained},
    }
    summary = {
        name: {"all": r["all_queries"], **{k: v["p99_ms"] for k, v in r["by_kind"].items()}}
        for name, r in results.items()
    }
    print(msgspec.json.format(msgspec.json.encode(summary)).decode(), file=sys.stderr)
    path = write_results("people_search", "python -m bench.people_search " + " ".join(sys.argv[1:]), out)
    print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main())

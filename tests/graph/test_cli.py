"""``mydrtv graph check``, ``rebuild`` and ``precompute``, run as the operator runs them, on each backend."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid

import asyncpg
import pytest

from core.settings import Settings
from tests.graph_servers import BACKENDS, backend_url
from tests.services import DatabaseFactory


def cli_env(settings: Settings, database_url: str, graph_url: str, graph_name: str) -> dict[str, str]:
    """The environment of a ``mydrtv`` command on these databases and this graph, and no other
    ``MYDRTV_`` setting of the test run's own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MYDRTV_")}
    return env | {
        "MYDRTV_DATABASE_URL": database_url,
        "MYDRTV_IDENTITY_DATABASE_URL": settings.identity_database_url,
        "MYDRTV_GRAPH_URL": graph_url,
        "MYDRTV_GRAPH_NAME": graph_name,
        "MYDRTV_LOG_LEVEL": "WARNING",
    }


async def mydrtv(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server.cli",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.mark.parametrize("backend", BACKENDS)
async def test_check_finds_a_stale_graph_and_rebuild_fixes_it(
    settings: Settings, databases: DatabaseFactory, request: pytest.FixtureRequest, backend: str
) -> None:
    database_url = await databases.create_migrated("main")  # what the other backend's run added stays there
    graph_url, graph_name = await backend_url(request, backend)
    users = [(uuid.uuid4(), f"cli_{uuid.uuid4().hex[:10]}") for _ in range(4)]  # the last follows nobody
    connection = await asyncpg.connect(database_url)
    try:
        await connection.executemany("INSERT INTO users (id, handle) VALUES ($1, $2)", users)
        # Written behind the outbox's back, as if the graph had been lost or never fed.
        await connection.execute(
            "INSERT INTO follows (follower_id, followee_id) VALUES ($1, $2), ($2, $3)",
            *(u[0] for u in users[:3]),
        )
    finally:
        await connection.close()
    env = cli_env(settings, database_url, graph_url, graph_name)

    code, out, _ = await mydrtv(env, "graph", "check")
    assert code == 1
    report = json.loads(out)
    assert not report["consistent"] and len(report["differences"]["follows"]["missing"]) == 2

    code, out, err = await mydrtv(env, "graph", "rebuild")
    assert code == 0, err
    rebuilt = json.loads(out)
    assert rebuilt["loaded"]["follows"] == 2 and rebuilt["loaded"]["users"] == 4

    code, out, _ = await mydrtv(env, "graph", "check")
    assert code == 0 and json.loads(out) == {"consistent": True, "differences": {}}

    code, _, err = await mydrtv(
        env | {"MYDRTV_GRAPH_URL": "bolt://127.0.0.1:7687?dialect=cobol"}, "graph", "check"
    )
    assert code == 2 and "no options" in err


@pytest.mark.parametrize("backend", BACKENDS)
async def test_precompute_stores_the_rankings_of_everyone_following_someone_and_drops_the_others(
    settings: Settings, databases: DatabaseFactory, request: pytest.FixtureRequest, backend: str
) -> None:
    database_url = await databases.create_migrated("main")
    graph_url, graph_name = await backend_url(request, backend)
    heavy, hub, was_heavy = (uuid.uuid4() for _ in range(3))
    others = [uuid.uuid4() for _ in range(301)]  # the hub follows them: 301 paths for ``heavy``
    connection = await asyncpg.connect(database_url)
    try:
        await connection.executemany(
            "INSERT INTO users (id, handle) VALUES ($1, $2)",
            [(user, f"pre_{user.hex[:12]}") for user in (heavy, hub, was_heavy, *others)],
        )
        await connection.execute("INSERT INTO follows (follower_id, followee_id) VALUES ($1, $2)", heavy, hub)
        await connection.executemany(
            "INSERT INTO follows (follower_id, followee_id) VALUES ($1, $2)", [(hub, o) for o in others]
        )
        await connection.execute(  # a row left from when this user followed someone
            "INSERT INTO precomputed_rankings (user_id, kind, ranking, paths)"
            " VALUES ($1, 'people', '[]', 400)",
            was_heavy,
        )
        env = cli_env(settings, database_url, graph_url, graph_name)
        code, _, err = await mydrtv(env, "graph", "rebuild")
        assert code == 0, err

        code, out, err = await mydrtv(env, "graph", "precompute")

        assert code == 0, err
        report = json.loads(out)
        assert (report["users"], report["dropped"]) == (4, 1)
        rows = await connection.fetch(
            "SELECT user_id, kind, ranking::text, paths FROM precomputed_rankings"
            " ORDER BY kind, paths DESC, user_id"
        )
        assert [(row["user_id"], row["kind"], row["paths"], row["ranking"]) for row in rows[1:]] == [
            (hub, "people", 0, "[]"),  # the people the hub follows follow nobody
            *sorted([(heavy, "videos", 0, "[]"), (hub, "videos", 0, "[]")]),  # nobody rated anything
        ]
        assert (rows[0]["user_id"], rows[0]["paths"]) == (heavy, 301)
        ranking = json.loads(rows[0]["ranking"])
        expected = sorted(str(o) for o in others)[:60]  # one mutual and one follower each: by id
        assert [(row["id"], row["mutual"]) for row in ranking] == [(o, 1) for o in expected]
    finally:
        await connection.close()

"""Backend outages answer 503 with ``Retry-After`` and a code, and the app recovers on its own.

The PostgreSQL and the Redis here are the test's own, so stopping and killing them touches no
other test. The app is not restarted: what was down comes back to the same pools.
"""

from __future__ import annotations

import asyncio
import signal
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
import pytest
import redis.asyncio
from litestar.testing import AsyncTestClient

from app.identity.crypto import new_master_key
from core.outages import BUS, DATABASE, outage_of
from core.settings import Settings
from server.embedded.postgres import EmbeddedPostgres
from server.embedded.redis import EmbeddedRedis
from server.factory import create_app
from tests.app.video_helpers import new_video, roomy
from tests.pg_faults import down, frozen, migrated_settings, own_postgres
from tests.services import DatabaseFactory, free_port
from tests.users import Person, person

Client = AsyncTestClient[Any]


@pytest.fixture(scope="module")
def postgres() -> Iterator[EmbeddedPostgres]:
    with own_postgres() as server:
        yield server


@pytest.fixture(scope="module")
async def settings(postgres: EmbeddedPostgres) -> Settings:
    """The app on the test's own PostgreSQL, with the in-process bus (no Redis to lose here)."""
    return roomy(await migrated_settings(postgres))


@pytest.fixture(scope="module")
async def api(settings: Settings) -> AsyncIterator[Client]:
    async with AsyncTestClient(app=create_app(settings)) as client:
        yield client


def assert_unavailable(response: Any, code: str) -> None:
    assert response.status_code == 503, response.text
    assert response.json()["error"] == code
    assert int(response.headers["Retry-After"]) >= 1


async def write(api: Client, who: Person, video: str, body: str) -> Any:
    return await api.post(f"/videos/{video}/comments", json={"body": body}, headers=who.headers)


@pytest.mark.parametrize("sig", [signal.SIGQUIT, signal.SIGKILL], ids=["immediate-stop", "kill-9"])
async def test_postgres_down_answers_503_and_comes_back_without_a_restart(
    api: Client, settings: Settings, postgres: EmbeddedPostgres, sig: signal.Signals
) -> None:
    ada = await person(settings)
    video = await new_video(api, ada)
    assert (await write(api, ada, video, "before")).status_code == 201

    async with down(postgres, sig):
        assert_unavailable(await write(api, ada, video, "during"), "database_unavailable")
        assert_unavailable(await api.get(f"/videos/{video}/comments"), "database_unavailable")
        assert_unavailable(await api.get("/me", headers=ada.headers), "database_unavailable")
        # The identity database (on the same server here) is away too: signing in needs it.
        token = {"grant_type": "password", "username": "ada@example.org", "password": "whatever"}
        assert_unavailable(await api.post("/auth/token", data=token), "database_unavailable")

    after = await write(api, ada, video, "after")
    assert after.status_code == 201, after.text
    listed = await api.get(f"/videos/{video}/comments")
    assert [item["body"] for item in listed.json()["items"]] == ["after", "before"]


async def test_a_frozen_postgres_answers_503_within_the_bound_and_comes_back(
    settings: Settings, postgres: EmbeddedPostgres
) -> None:
    """No pool acquire or statement waits for ever: a hung server is an outage, not a hang."""
    bound = 1.0
    quick = msgspec.structs.replace(settings, database_timeout_seconds=bound)
    async with AsyncTestClient(app=create_app(quick)) as api:
        ada = await person(quick)
        video = await new_video(api, ada)
        assert (await write(api, ada, video, "before")).status_code == 201
        async with frozen(postgres, at_most=10 * bound):
            for request in (
                lambda: write(api, ada, video, "during"),
                lambda: api.get(f"/videos/{video}/comments"),
            ):
                started = time.monotonic()
                answer = await request()
                took = time.monotonic() - started
                assert_unavailable(answer, "database_unavailable")
                # A statement's bound, then asyncpg's bounded cancel of it; half a bound of slack.
                assert took < 2.5 * bound, took
        after = await write(api, ada, video, "after")
        assert after.status_code == 201, after.text
        listed = await api.get(f"/videos/{video}/comments")
        assert listed.status_code == 200, listed.text
        assert [item["body"] for item in listed.json()["items"]] == ["after", "before"]


@pytest.fixture
def own_redis() -> Iterator[EmbeddedRedis]:
    with tempfile.TemporaryDirectory(prefix="mydrtv-outage-") as root:
        server = EmbeddedRedis(Path(root), free_port())
        server.start()
        try:
            yield server
        finally:
            server.stop()


async def test_redis_down_answers_503_where_rest_needs_it_and_comes_back(
    databases: DatabaseFactory, own_redis: EmbeddedRedis
) -> None:
    """A watch party's live state lives in Redis: reading it while Redis is away is a 503."""
    settings = roomy(
        Settings(
            database_url=await databases.create_migrated("main"),
            identity_database_url=await databases.create_migrated("identity"),
            redis_url=own_redis.url,
            jwt_secret="test-secret-" + uuid.uuid4().hex,
            privacy_master_key=new_master_key(),
        )
    )
    async with AsyncTestClient(app=create_app(settings)) as api:
        host = await person(settings)
        video = await new_video(api, host)
        created = await api.post("/parties", json={"video_id": video}, headers=host.headers)
        assert created.status_code == 201, created.text
        party = f"/parties/{created.json()['id']}"
        assert own_redis.process is not None
        own_redis.process.kill()
        try:
            await asyncio.to_thread(own_redis.process.wait, 30)
            assert_unavailable(await api.get(party, headers=host.headers), "bus_unavailable")
        finally:
            own_redis.process = None
            await asyncio.to_thread(own_redis.start)
        # Redis came back empty (no persistence): the party's state is rebuilt from PostgreSQL.
        again = await api.get(party, headers=host.headers)
        assert again.status_code == 200, again.text


async def test_a_connection_lost_mid_query_is_a_database_outage(
    settings: Settings, postgres: EmbeddedPostgres
) -> None:
    connection = await asyncpg.connect(settings.database_url)
    started = asyncio.Event()
    connection.add_log_listener(lambda *_: started.set())
    query = asyncio.create_task(
        connection.execute("DO $$ BEGIN RAISE NOTICE 'go'; END $$; SELECT pg_sleep(60)")
    )
    await asyncio.wait_for(started.wait(), 10)
    async with down(postgres, signal.SIGQUIT):
        with pytest.raises(Exception) as lost:
            await query
    await connection.close()
    assert outage_of(lost.value) == DATABASE, repr(lost.value)


async def test_a_refused_connection_is_named_by_its_library() -> None:
    """A plain ``ConnectionRefusedError`` says nothing of whose it was; its traceback does."""
    port = free_port()
    with pytest.raises(OSError) as refused_pg:
        await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{port}/x")
    assert outage_of(refused_pg.value) == DATABASE
    client = redis.asyncio.Redis.from_url(f"redis://127.0.0.1:{port}")
    try:
        with pytest.raises(redis.ConnectionError) as refused_redis:
            await client.ping()
    finally:
        await client.aclose()
    assert outage_of(refused_redis.value) == BUS
    assert outage_of(OSError("a full disk")) is None
    assert outage_of(ValueError("a bug")) is None


async def test_every_operation_with_a_backend_documents_503_with_retry_after(api: Client) -> None:
    document = (await api.get("/schema/openapi.json")).json()
    unavailable = document["components"]["responses"]["503"]
    assert unavailable["headers"]["Retry-After"]["schema"]["type"] == "integer"
    for path, item in document["paths"].items():
        for method, operation in item.items():
            expected = (method, path) != ("get", "/health/live")
            assert ("503" in operation["responses"]) == expected, (method, path)

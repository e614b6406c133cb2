"""The websocket gateway while a backend is away: every request is answered with a code the client
can act on (a retryable close, or a retryable error reply), the log says so in one line, and the
client that follows docs/protocol.md gets back in once the backend returns.

A real ``mydrtv serve`` process; the PostgreSQL (frozen, stopped) or the Redis (frozen) is the
test's own, so the fault touches no other test.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import msgspec
import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from app.embedded.postgres import EmbeddedPostgres
from app.settings import Settings
from realtime import protocol
from realtime.client import Client, ClientError
from tests.faults.harness import RedisServer, rig_settings
from tests.pg_faults import down, frozen, migrated_settings, own_postgres
from tests.processes import ServerProcess
from tests.services import DatabaseFactory
from tests.users import Person, person

BOUND = 1.0  # MYDRTV_DATABASE_TIMEOUT_SECONDS here: a hung PostgreSQL is an outage after this


@pytest.fixture(scope="module")
def postgres() -> Iterator[EmbeddedPostgres]:
    with own_postgres() as server:
        yield server


@pytest.fixture(scope="module")
async def pg_settings(postgres: EmbeddedPostgres) -> Settings:
    return msgspec.structs.replace(await migrated_settings(postgres), database_timeout_seconds=BOUND)


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[ServerProcess]:
    server = ServerProcess(settings)
    await server.start()
    try:
        yield server
    finally:
        assert await server.stop() == 0


async def connect_refused(url: str, token: str) -> tuple[protocol.Disconnect | None, int | None]:
    """Send ``connect`` and expect no ``connected``: the ``disconnect`` frame and the close code."""
    goodbye = None
    async with websockets.connect(url) as socket:
        await socket.send(protocol.encoder.encode(protocol.Connect(id=1, token=token)).decode())
        try:
            async for frame in socket:
                message = protocol.server_decoder.decode(frame)
                assert not isinstance(message, protocol.Connected), "connected while the database is away"
                if isinstance(message, protocol.Disconnect):
                    goodbye = message
        except ConnectionClosed:
            pass
        return goodbye, socket.close_code


async def back_with_backoff(url: str, token: str, within: float) -> Client:
    """Reconnect as docs/protocol.md says (doubling, jittered delays) until ``connected``."""
    deadline, delay = time.monotonic() + within, 0.1
    while True:
        try:
            client, _ = await Client.connect(url, token)
            return client
        except (ConnectionError, ConnectionClosed, AssertionError):
            assert time.monotonic() < deadline, "never connected again after the outage"
            await asyncio.sleep(delay)
            delay = min(2 * delay, 2.0)


def gateway_lines(server: ServerProcess) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in server.lines if line.startswith("{")]
    return [line for line in lines if line.get("logger") == "mydrtv.gateway"]


@pytest.mark.parametrize("fault", ["frozen", "immediate-stop"])
async def test_connect_and_refresh_while_postgres_is_away_answer_retryably(
    pg_settings: Settings, postgres: EmbeddedPostgres, fault: str
) -> None:
    """Before: ``connect`` closed with 4004 and a traceback, ``refresh`` answered ``internal_error``.

    The users are new to the server's role cache, so checking their tokens needs the database
    (a user the cache holds is served from it while the database is away, as it should be)."""
    async with serving(pg_settings) as server:
        ada, bob = await person(pg_settings), await person(pg_settings)
        inside, _ = await Client.connect(server.ws_url, ada.token)
        outage = frozen(postgres, at_most=10 * BOUND) if fault == "frozen" else down(postgres, signal.SIGQUIT)
        async with outage:
            started = time.monotonic()
            goodbye, code = await connect_refused(server.ws_url, bob.token)
            took = time.monotonic() - started
            assert code == protocol.CLOSE_UNAVAILABLE
            assert goodbye == protocol.Disconnect(
                code=protocol.CLOSE_UNAVAILABLE, reason=goodbye.reason if goodbye else "", reconnect=True
            )
            assert took < 2.5 * BOUND, took  # bounded by the database timeout, not by asyncpg's 60 s

            # Any token's check needs the database (bob's is refused as another user only after).
            with pytest.raises(ClientError) as refused:
                await asyncio.wait_for(inside.request(protocol.Refresh(token=bob.token)), 2.5 * BOUND)
            assert refused.value.error.code == "database_unavailable"
        # The connection that asked lives on and refreshes once the database is back.
        assert isinstance(await inside.request(protocol.Refresh(token=ada.token)), protocol.Refreshed)
        await inside.close()
        again = await back_with_backoff(server.ws_url, bob.token, within=30)
        await again.close()
    lines = gateway_lines(server)
    assert not [line for line in lines if "exception" in line], lines
    outages = [line for line in lines if "database_unavailable" in json.dumps(line)]
    assert len(outages) == 2, lines  # one line per failure: the connect, the refresh


@pytest.fixture
async def own_redis() -> AsyncIterator[RedisServer]:
    server = RedisServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def party_of(server: ServerProcess, host: Person) -> str:
    async with httpx.AsyncClient(base_url=server.http_url, headers=host.headers, timeout=30) as http:
        video = await http.post("/videos", json={"title": "A video"})
        assert video.status_code == 201, video.text
        party = await http.post("/parties", json={"video_id": video.json()["id"]})
        assert party.status_code == 201, party.text
        return str(party.json()["id"])


async def error_code(client: Client, message: Any) -> str:
    with pytest.raises(ClientError) as refused:
        await asyncio.wait_for(client.request(message), 10)
    return refused.value.error.code


async def test_requests_that_need_a_hung_redis_answer_bus_unavailable(
    databases: DatabaseFactory, own_redis: RedisServer
) -> None:
    """Before: ``presence`` (and party requests reading the party from Redis) answered
    ``internal_error`` with a traceback."""
    settings = await rig_settings(databases, own_redis.url)
    async with serving(settings) as server:
        host = await person(settings)
        party = await party_of(server, host)
        client, _ = await Client.connect(server.ws_url, host.token)
        channel = f"party:{party}"
        await client.subscribe(channel)
        assert isinstance(await client.request(protocol.Presence(channel=channel)), protocol.PresenceState)
        assert isinstance(await client.request(protocol.PartyGet(party=party)), protocol.PartyState)
        own_redis.freeze()
        try:
            assert await error_code(client, protocol.Presence(channel=channel)) == "bus_unavailable"
            assert await error_code(client, protocol.PartyGet(party=party)) == "bus_unavailable"
            command = protocol.PartyCommand(party=party, action="pause", version=0)
            assert await error_code(client, command) == "bus_unavailable"
            # Recovering reads the channel's history in Redis: refused with 4010, as documented.
            other, _ = await Client.connect(server.ws_url, host.token)
            other.positions = dict(client.positions)
            with pytest.raises(ConnectionError):
                await asyncio.wait_for(other.subscribe(channel, recover=True), 10)
            assert other.disconnect == protocol.Disconnect(
                code=protocol.CLOSE_BUS_GAP,
                reason=other.disconnect.reason if other.disconnect else "",
                reconnect=True,
            )
        finally:
            own_redis.thaw()
        # Once Redis answers again, the same connection is served (or was sent off to recover).
        try:
            reply = await asyncio.wait_for(client.request(protocol.Presence(channel=channel)), 10)
            assert isinstance(reply, protocol.PresenceState)
        except ConnectionError:
            assert client.disconnect is not None and client.disconnect.reconnect
        await client.close()
    log = "".join(server.lines)
    assert "Traceback" not in log
    assert "internal_error" not in log

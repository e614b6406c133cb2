"""The websocket fuzz (issue 11): ten thousand generated frames against a real server process.

Malformed JSON, deep nesting, wrong types, unknown kinds, oversized and binary frames, NUL, and
valid messages that ask for the wrong thing, from a few signed-in connections at once; some more
as the first frame of a new connection. Meanwhile
an innocent client on the same instance must keep receiving its channels. Run with ``-s`` to see
the counts (``tests.realtime.fuzz.Tally.summary``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
import uuid

import asyncpg
import httpx
import msgspec

from app.parties.events import ChatPosted
from clients.websocket import Client
from core.settings import Settings
from realtime import protocol
from realtime.bus.redis import RedisBus
from tests.processes import ServerProcess
from tests.realtime.fuzz import Fuzzer, Generator, Tally
from tests.users import Person, person

FRAMES = 10_000
FIRST_FRAMES = 500  # more, each the first frame of a new connection
FUZZERS = 4
SEED = 11
MAX_BYTES = 16 * 1024


async def a_party(settings: Settings, http: httpx.AsyncClient, server: ServerProcess, host: Person) -> str:
    video_id = uuid.uuid4()
    connection = await asyncpg.connect(settings.database_url)
    try:
        await connection.execute(
            "INSERT INTO videos (id, owner_id, title, status, duration_seconds)"
            " VALUES ($1, $2, 'film', 'ready', 600)",
            video_id,
            host.id,
        )
    finally:
        await connection.close()
    response = await http.post(
        f"{server.http_url}/parties",
        headers=host.headers,
        json={"video_id": str(video_id), "visibility": "public", "control": "everyone"},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


class Innocent:
    """A client that only listens: to a video channel fed by a publisher, and to the party."""

    def __init__(self, client: Client, video: str) -> None:
        self.client = client
        self.video = video
        self.offsets: list[int] = []
        self.chats = 0
        self._changed = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        while True:
            message = await self.client.events.get()
            if not isinstance(message, protocol.Publication):
                continue
            if message.channel == self.video:
                self.offsets.append(message.offset)
            elif msgspec.json.decode(message.data).get("type") == ChatPosted.__struct_config__.tag:
                self.chats += 1
            self._changed.set()

    async def until(self, offsets: int, chats: int, within: float = 30) -> None:
        async with asyncio.timeout(within):
            while len(self.offsets) < offsets or self.chats < chats:
                self._changed.clear()
                await self._changed.wait()

    async def stop(self) -> None:
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
        await self.client.close()


async def publish_until(bus: RedisBus, channel: str, done: asyncio.Event) -> int:
    """Publish to ``channel`` every 20 ms until ``done``; how many were published."""
    count = 0
    while not done.is_set():
        count += 1
        await bus.publish(channel, json.dumps({"n": count}).encode())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), 0.02)
    return count


async def test_ten_thousand_generated_frames_break_nothing(settings: Settings) -> None:
    tuned = msgspec.structs.replace(
        settings, ws_message_rate="1000000/second", ws_max_message_bytes=MAX_BYTES
    )
    server = ServerProcess(tuned)
    await server.start()
    bus = RedisBus(tuned.redis_url, tuned.redis_namespace, history_size=100)
    await bus.start()
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            host = await person(tuned)
            party = await a_party(tuned, http, server, host)
            members = [await person(tuned) for _ in range(FUZZERS)]
            for member in members:
                joined = await http.post(f"{server.http_url}/parties/{party}/join", headers=member.headers)
                assert joined.status_code == 200, joined.text

            video = f"video:{uuid.uuid4().hex[:10]}"
            listener, _ = await Client.connect(server.ws_url, host.token)
            await listener.subscribe(video)
            await listener.subscribe(f"party:{party}")
            innocent = Innocent(listener, video)

            tally = Tally()
            rng = random.Random(SEED)
            generate = Generator(
                rng,
                party=party,
                channels=[video, f"user:{members[0].id}"],
                tokens=[m.token for m in members],
                max_bytes=MAX_BYTES,
            )
            frames = [generate() for _ in range(FRAMES)]
            firsts = [generate() for _ in range(FIRST_FRAMES)]
            fuzzers = [Fuzzer(server.ws_url, m.token, party, tally) for m in members]

            async def run(fuzzer: Fuzzer, share: int) -> None:
                for n, frame in enumerate(frames[share::FUZZERS]):
                    await fuzzer.send(frame)
                    if n % 20 == 0 and firsts:
                        await fuzzer.first(firsts.pop())
                await fuzzer.close()

            done = asyncio.Event()
            publisher = asyncio.create_task(publish_until(bus, video, done))
            started = time.monotonic()
            await asyncio.gather(*(run(f, n) for n, f in enumerate(fuzzers)))
            elapsed = time.monotonic() - started
            done.set()
            during = await publisher
            for n in range(5):  # and after the fuzz
                await bus.publish(video, json.dumps({"after": n}).encode())
            await innocent.until(during + 5, tally.chats)
            assert innocent.offsets == list(range(1, during + 6))
            assert innocent.chats == tally.chats
            assert listener.disconnect is None
            assert isinstance(await listener.request(protocol.Ping()), protocol.Pong)
            await innocent.stop()

            ready = await http.get(f"{server.http_url}/health/ready")
            alive = server.process is not None and server.process.returncode is None
    finally:
        await bus.stop()
        code = await server.stop()
    log = "".join(server.lines)
    summary = {
        **tally.summary(),
        "seconds": round(elapsed, 1),
        "innocent_publications": len(innocent.offsets),
        "innocent_chats": innocent.chats,
        "crashes": int(not alive) + int(code != 0),
        "tracebacks_in_log": log.count("Traceback"),
        "unretrieved_task_exceptions": log.count("never retrieved"),
    }
    print("\nwebsocket fuzz:", json.dumps(summary, indent=1))
    assert summary["frames_sent"] == FRAMES + FIRST_FRAMES
    assert ready.status_code == 200 and alive and code == 0
    assert tally.wrong == [], "\n".join(tally.wrong[:20])
    assert tally.replies["error:internal_error"] == 0
    assert set(tally.closes) <= {protocol.CLOSE_TOO_BIG, protocol.CLOSE_PROTOCOL_ERROR}
    assert summary["tracebacks_in_log"] == 0 and summary["unretrieved_task_exceptions"] == 0

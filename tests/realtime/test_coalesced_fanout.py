"""Ordering and the slow-consumer cut-off hold with write coalescing: publications that reach the
server one by one, in loop iterations of their own, wait for a wide window and go out together;
every reader still gets each once, in offset order, one message per frame, and a client that stops
reading is cut off with 4008 within the same bound (the frames waiting for the window count).

A real server process with a 50 ms window; publications through Redis, each awaited on its own.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import msgspec
import pytest

from clients.websocket import Client
from core.settings import Settings
from realtime import protocol
from realtime.bus.redis import RedisBus
from tests.processes import ServerProcess
from tests.realtime.test_slow_consumer import BODY, LIMIT, UnreadSocket, cut_offs, publisher, slow_settings
from tests.users import person

__all__ = ["publisher", "slow_settings"]  # the fixtures, shared with test_slow_consumer

WINDOW_MS = 50.0
READERS = 10
ROUNDS = 40
PER_ROUND = 40  # 40 x 1.5 KB: a round fits well inside a reader's bound, the whole far past it


@pytest.fixture(scope="module")
async def server(slow_settings: Settings) -> AsyncIterator[ServerProcess]:
    process = ServerProcess(msgspec.structs.replace(slow_settings, ws_write_coalesce_ms=WINDOW_MS))
    await process.start()
    yield process
    await process.stop()


async def read_all(client: Client, count: int) -> list[int]:
    return [(await client.publication(within=30)).offset for _ in range(count)]


async def test_publications_one_by_one_reach_every_reader_in_order_while_a_slow_consumer_is_cut(
    server: ServerProcess, publisher: RedisBus, slow_settings: Settings
) -> None:
    channel = f"video:{uuid.uuid4().hex[:10]}"
    slow = UnreadSocket(server.port)
    await slow.open((await person(slow_settings)).token, channel)
    readers = [(await Client.connect(server.ws_url))[0] for _ in range(READERS)]
    for reader in readers:
        await reader.subscribe(channel)
    cut_before = len(cut_offs(server))

    offsets: list[list[int]] = [[] for _ in readers]
    # Once cut off, the slow client reads what is left, as a client would: the server gives a
    # closing socket ``close_timeout`` to take its goodbye, and the rounds can outlast that.
    rest: asyncio.Task[tuple[list[protocol.ServerMessage], int | None]] | None = None
    for _ in range(ROUNDS):
        for _ in range(PER_ROUND):
            await publisher.publish(channel, BODY)
        got = await asyncio.gather(*(read_all(reader, PER_ROUND) for reader in readers))
        for mine, more in zip(offsets, got, strict=True):
            mine += more
        if rest is None and cut_offs(server)[cut_before:]:
            rest = asyncio.create_task(slow.rest())
    for mine in offsets:
        assert mine == list(range(1, ROUNDS * PER_ROUND + 1))

    assert rest is not None, "the slow consumer was never cut off"
    messages, code = await rest
    assert code == protocol.CLOSE_SLOW_CONSUMER
    (line,) = cut_offs(server)[cut_before:]
    assert LIMIT <= line["waiting_bytes"] <= LIMIT + 2 * len(BODY)
    got = [m for m in messages if isinstance(m, protocol.Publication)]
    assert [p.offset for p in got] == list(range(1, len(got) + 1))  # in order, no hole, then cut
    for client in readers:
        await client.close()

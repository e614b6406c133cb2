"""Under a burst (publications arriving faster than one loop iteration writes them, so frames
coalesce into one write per socket), every reader still gets every publication once, in offset
order, one message per websocket frame; a client that stops reading is cut off with 4008 within
the bound; and a client that comes back recovers exactly what it missed.

A real server process; publications through Redis, in batches as the outbox relay sends them.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from clients.websocket import Client
from core.settings import Settings
from realtime import protocol
from realtime.bus.redis import RedisBus
from tests.processes import ServerProcess
from tests.realtime.test_slow_consumer import BODY, LIMIT, UnreadSocket, cut_offs, publisher, slow_settings
from tests.users import person

__all__ = ["publisher", "slow_settings"]  # the fixtures, shared with test_slow_consumer

READERS = 20
BURST = 1500  # 1500 x 1.5 KB: far past the slow consumer's bound and the kernel's buffers
BATCH = 100


@pytest.fixture(scope="module")
async def server(slow_settings: Settings) -> AsyncIterator[ServerProcess]:
    process = ServerProcess(slow_settings)
    await process.start()
    yield process
    await process.stop()


async def read_all(client: Client, count: int) -> list[int]:
    return [(await client.publication(within=30)).offset for _ in range(count)]


async def test_a_burst_reaches_every_reader_in_order_while_a_slow_consumer_is_cut(
    server: ServerProcess, publisher: RedisBus, slow_settings: Settings
) -> None:
    channel = f"video:{uuid.uuid4().hex[:10]}"
    slow = UnreadSocket(server.port)
    await slow.open((await person(slow_settings)).token, channel)
    readers = [(await Client.connect(server.ws_url))[0] for _ in range(READERS)]
    for reader in readers:
        await reader.subscribe(channel)
    late, _ = await Client.connect(server.ws_url)
    await late.subscribe(channel)
    cut_before = len(cut_offs(server))

    offsets: list[list[int]] = [[] for _ in readers]
    seen: list[int] = []
    for start in range(0, BURST, BATCH):
        count = min(BATCH, BURST - start)
        (result,) = (await publisher.publish_many({channel: [(BODY, None)] * count})).values()
        assert not isinstance(result, Exception)
        # The readers (in this process) read each batch before the next: they must not become
        # slow consumers themselves. The batch reaches the server at once, as the relay sends it.
        got = await asyncio.gather(*(read_all(reader, count) for reader in readers))
        for mine, more in zip(offsets, got, strict=True):
            mine += more
        if start < BURST * 2 // 3:  # the rest, recovered, fits in a 1 MiB reply
            seen += await read_all(late, count)
    for mine in offsets:
        assert mine == list(range(1, BURST + 1))
    # The late client read two thirds, went away, and recovers the rest, exactly.
    assert seen == list(range(1, len(seen) + 1))
    position = late.positions[channel]
    await late.close()
    again, _ = await Client.connect(server.ws_url)
    again.positions = {channel: protocol.Recover(position.epoch, seen[-1])}
    reply = await again.subscribe(channel, recover=True)
    assert reply.recovered
    assert [p.offset for p in reply.publications] == list(range(len(seen) + 1, BURST + 1))

    messages, code = await slow.rest()
    assert code == protocol.CLOSE_SLOW_CONSUMER
    (line,) = cut_offs(server)[cut_before:]
    assert LIMIT <= line["waiting_bytes"] <= LIMIT + 2 * len(BODY)
    got = [m for m in messages if isinstance(m, protocol.Publication)]
    assert [p.offset for p in got] == list(range(1, len(got) + 1))  # in order, no hole, then cut
    for client in (*readers, again):
        await client.close()

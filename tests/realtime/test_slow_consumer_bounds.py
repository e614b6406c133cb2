"""What a client that stops reading costs the server is bounded by documented sizes: the socket's
kernel send buffer is capped (``MYDRTV_WS_SOCKET_SEND_BUFFER_BYTES``), so the cut-off at
``MYDRTV_WS_SEND_BUFFER_BYTES`` comes after a known number of bytes rather than after whatever the
kernel chose to take (about 3 MB over loopback); and a client that stops reading before it ever
answered a ping is cut off as the slow consumer it is (4008), not closed with 1011.

A real server process, the raw client of test_slow_consumer (a 4 KB receive buffer, no library
reading on its behalf) and publications through Redis.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import msgspec

from app.settings import Settings
from realtime import protocol
from realtime.bus.redis import RedisBus
from realtime.client import Client
from tests.processes import ServerProcess
from tests.realtime.test_slow_consumer import BODY, LIMIT, UnreadSocket, cut_offs, publisher, slow_settings
from tests.users import person

__all__ = ["publisher", "slow_settings"]  # the fixtures, shared with test_slow_consumer

SOCKET_BUFFER = 32 * 1024


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[ServerProcess]:
    server = ServerProcess(settings)
    await server.start()
    try:
        yield server
    finally:
        assert await server.stop() == 0


def kernel_send_buffer(port: int) -> int:
    """The send buffer (``skmem`` ``tb``) of the server's established socket on ``port``, as
    ``ss`` reads it from the kernel: Linux doubles what ``SO_SNDBUF`` asked, for its overhead."""
    command = ["ss", "-tmnH", "state", "established", f"sport = :{port}"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    sizes = re.findall(r"\btb(\d+)", out)
    assert len(sizes) == 1, out
    return int(sizes[0])


async def test_the_socket_send_buffer_is_capped_so_the_cut_comes_after_a_known_number_of_bytes(
    slow_settings: Settings, publisher: RedisBus
) -> None:
    settings = msgspec.structs.replace(slow_settings, ws_socket_send_buffer_bytes=SOCKET_BUFFER)
    async with serving(settings) as server:
        channel = f"video:{uuid.uuid4().hex[:10]}"
        slow = UnreadSocket(server.port)
        await slow.open((await person(settings)).token, channel)
        assert kernel_send_buffer(server.port) == 2 * SOCKET_BUFFER
        published = 0
        while not cut_offs(server):
            assert published * len(BODY) < 16 * 1024 * 1024, "the slow consumer was never cut off"
            await publisher.publish(channel, BODY)
            published += 1
        messages, code = await slow.rest()
    assert code == protocol.CLOSE_SLOW_CONSUMER
    assert isinstance(messages[-1], protocol.Disconnect)
    # Everything that reached the client after it stopped reading was held by the server (up to
    # the limit and a frame), its capped kernel buffer, or the client's own 4 KB receive buffer
    # (doubled by its kernel too). Uncapped, the kernel alone took megabytes.
    bound = LIMIT + 2 * len(BODY) + 2 * SOCKET_BUFFER + 2 * 4096 + 4096
    print(
        f"\nsocket send buffer capped at {SOCKET_BUFFER} B: cut after {published} publications "
        f"({published * len(BODY)} B); the client then read {slow.received_bytes} B (bound {bound} B)"
    )
    assert published * len(BODY) <= bound
    assert slow.received_bytes <= bound


PING = 1.0


async def test_a_client_that_stops_reading_before_it_ever_answered_a_ping_is_cut_with_4008(
    slow_settings: Settings, publisher: RedisBus
) -> None:
    """Frames were sent to it since it connected and no pong ever came: a slow consumer, cut off
    (4008, logged and counted) by the first ping it leaves unanswered. Before, it got 1011."""
    settings = msgspec.structs.replace(slow_settings, ws_ping_seconds=PING)
    async with serving(settings) as server:
        channel = f"video:{uuid.uuid4().hex[:10]}"
        slow = UnreadSocket(server.port)  # reads nothing, answers no ping, once subscribed
        await slow.open((await person(settings)).token, channel)
        stopped_reading = time.monotonic()
        reader, _ = await Client.connect(server.ws_url, (await person(settings)).token)
        await reader.subscribe(channel)
        while not cut_offs(server) and not any("did not answer pings" in line for line in server.lines):
            assert time.monotonic() - stopped_reading < 2 * PING + 5, "never cut off"
            sent = await publisher.publish(channel, BODY)
            assert (await asyncio.wait_for(reader.publication(), 10)).offset == sent.offset
            await asyncio.sleep(0.05)  # a low rate: no byte bound is reached
        (line,) = cut_offs(server)
        assert line["cause"] == "ping"
        assert time.monotonic() - stopped_reading <= 2 * PING + 1
        messages, code = await slow.rest()
        assert code == protocol.CLOSE_SLOW_CONSUMER
        assert messages[-1] == protocol.Disconnect(
            code=protocol.CLOSE_SLOW_CONSUMER,
            reason=messages[-1].reason,  # type: ignore[union-attr]
            reconnect=True,
        ), messages[-1]
        assert isinstance(await reader.request(protocol.Ping()), protocol.Pong)
        await reader.close()
    assert not any("did not answer pings" in line for line in server.lines)

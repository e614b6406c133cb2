"""Write coalescing (``MYDRTV_WS_WRITE_COALESCE_MS``): under load, the frames of events published
within the window reach a socket in one write; idle, a frame goes out at once; a socket's replies
never wait; order holds and a slow consumer is still cut off by the same bounds.

A real socket pair: the connection's sink writes to a real asyncio transport, counting its writes,
and the other end is read and parsed as a client would.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

import pytest

from core.settings import Settings, SettingsError
from realtime import protocol
from realtime.connection import Connection, Outlet
from realtime.frames import Outgoing
from tests.realtime.test_connection import StuckSocket, texts

WINDOW = 0.2  # seconds: far longer than the few loop iterations a test step takes


class CountingSink:
    """A real socket's transport offered as ``FrameSink`` and ``Transport``: each write's frame
    count and loop time are queued for the test to await."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self.loop = asyncio.get_running_loop()
        self.writes: asyncio.Queue[tuple[int, float]] = asyncio.Queue()
        self.hung_up: list[int] = []

    def buffered(self) -> int:
        return self.transport.get_write_buffer_size()

    def write_frames(self, frames: Sequence[bytes]) -> bool:
        self.writes.put_nowait((len(frames), self.loop.time()))
        self.transport.write(b"".join(frames))
        return True

    def hang_up(self, goodbye: str, code: int, reason: str) -> None:
        self.hung_up.append(code)

    def watch(self, stalled: Callable[[], None]) -> None:
        pass

    async def next_write(self) -> tuple[int, float]:
        return await asyncio.wait_for(self.writes.get(), 5)


class Reader:
    """The client's end of the pair: reads what was written and parses the frames."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.received = b""

    async def messages(self, count: int) -> list[str]:
        loop = asyncio.get_running_loop()
        while len(parsed := texts([self.received])) < count:
            self.received += await asyncio.wait_for(loop.sock_recv(self.sock, 65536), 5)
        return parsed


@asynccontextmanager
async def socket_pair() -> AsyncIterator[tuple[CountingSink, Reader]]:
    server_end, client_end = socket.socketpair()
    client_end.setblocking(False)
    transport, _ = await asyncio.get_running_loop().connect_accepted_socket(asyncio.Protocol, server_end)
    try:
        yield CountingSink(transport), Reader(client_end)
    finally:
        transport.close()
        client_end.close()


def connection_to(sink: CountingSink, window: float | Outlet, queue_size: int = 100) -> Connection:
    socket_ = StuckSocket(accepts=0)
    outlet = window if isinstance(window, Outlet) else Outlet(asyncio.get_running_loop(), window)
    return Connection(
        socket_.send, socket_.close, None, queue_size=queue_size, transport=sink, sink=sink, outlet=outlet
    )


def event(n: int) -> Outgoing:
    return Outgoing(b'{"n":%d}' % n)


@pytest.mark.parametrize(("window", "later_writes"), [(0.0, [1, 1, 1]), (WINDOW, [3])])
async def test_frames_of_events_published_within_the_window_share_one_write(
    window: float, later_writes: list[int]
) -> None:
    async with socket_pair() as (sink, reader):
        connection = connection_to(sink, window)
        connection.deliver(event(1))
        first, first_at = await sink.next_write()  # idle: written at the end of this iteration
        assert first == 1
        for n in (2, 3, 4):  # each in a loop iteration of its own
            connection.deliver(event(n))
            await asyncio.sleep(0)
            await asyncio.sleep(0)
        if window:
            assert sink.writes.empty()  # waiting for the window
        writes = [await sink.next_write() for _ in later_writes]
        assert [count for count, _ in writes] == later_writes
        if window:
            assert writes[0][1] >= first_at + window - 0.001  # a window after the previous write
        assert await reader.messages(4) == [f'{{"n":{n}}}' for n in (1, 2, 3, 4)]


async def test_a_reply_goes_out_at_once_behind_what_waits_for_the_window() -> None:
    async with socket_pair() as (sink, reader):
        connection = connection_to(sink, WINDOW)
        connection.deliver(event(1))
        _, first_at = await sink.next_write()
        connection.deliver(event(2))
        await asyncio.sleep(0)
        connection.send_message(protocol.Pong(id=7))
        count, at = await sink.next_write()
        assert count == 2  # the waiting event, then the reply: order kept
        assert at < first_at + WINDOW
        connection.deliver(event(3))  # still within the window: waits for it
        count, at = await sink.next_write()
        assert count == 1
        assert at >= first_at + WINDOW - 0.001
        pong = protocol.encoder.encode(protocol.Pong(id=7)).decode()
        assert await reader.messages(4) == ['{"n":1}', '{"n":2}', pong, '{"n":3}']


async def test_frames_waiting_for_the_window_count_towards_the_slow_consumer_cut_off() -> None:
    outlet = Outlet(asyncio.get_running_loop(), WINDOW)
    async with socket_pair() as (sink, reader), socket_pair() as (other_sink, _):
        connection = connection_to(sink, outlet, queue_size=5)
        other = connection_to(other_sink, outlet)
        connection.deliver(event(0))
        await sink.next_write()
        for n in range(1, 6):  # five frames wait for the window, each from an iteration of its own
            connection.deliver(event(n))
            await asyncio.sleep(0)
        assert connection.closing is None
        connection.deliver(event(6))  # finds queue_size frames waiting
        assert connection.closing is not None
        assert connection.closing[0] == protocol.CLOSE_SLOW_CONSUMER
        assert sink.hung_up == [protocol.CLOSE_SLOW_CONSUMER]
        assert connection.waiting()[0] == 0  # the backlog was dropped
        assert await reader.messages(1) == ['{"n":0}']
        other.deliver(event(7))  # another socket's frame, due with the same windowed flush
        await other_sink.next_write()
        assert sink.writes.empty()  # that flush wrote nothing to the socket cut off


def test_the_window_cannot_be_negative() -> None:
    assert Settings.from_env({"MYDRTV_WS_WRITE_COALESCE_MS": "12.5"}).ws_write_coalesce_ms == 12.5
    with pytest.raises(SettingsError, match="ws_write_coalesce_ms"):
        Settings.from_env({"MYDRTV_WS_WRITE_COALESCE_MS": "-1"})

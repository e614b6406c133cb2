"""A client that stops reading is cut off with 4008 once the bytes waiting for it pass
``MYDRTV_WS_SEND_BUFFER_BYTES``, or, at a rate too low for that, once it lets a ping go
unanswered with frames unread; logged and counted, while the others on the instance go on.

A real server process (uvicorn, its transport and the kernel's buffers all take part), a raw
client with a 4 KB receive buffer that stops reading once subscribed, and publications through
Redis. Progress is counted in bytes published, not in seconds waited.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
from websockets.client import ClientProtocol
from websockets.frames import Close, Frame, Opcode
from websockets.protocol import State
from websockets.uri import parse_uri

from app.settings import Settings
from realtime import protocol
from realtime.bus.redis import RedisBus
from realtime.client import Client
from tests.processes import ServerProcess
from tests.users import person

LIMIT = 256 * 1024
BODY = msgspec.json.encode({"type": "comment.created", "comment": {"body": "x" * 1500}})
# Far more than the limit and any kernel buffers: before the fix the cut never came at all.
BUDGET = 16 * 1024 * 1024


@pytest.fixture(scope="module")
def slow_settings(settings: Settings) -> Settings:
    return msgspec.structs.replace(
        settings,
        ws_send_buffer_bytes=LIMIT,
        ws_ping_seconds=120.0,  # the cut must come from the buffer, not from a ping timeout
        ws_message_rate="500/second",
    )


@pytest.fixture(scope="module")
async def server(slow_settings: Settings) -> AsyncIterator[ServerProcess]:
    process = ServerProcess(slow_settings)
    await process.start()
    yield process
    await process.stop()


@pytest.fixture(scope="module")
async def publisher(slow_settings: Settings) -> AsyncIterator[RedisBus]:
    bus = RedisBus(slow_settings.redis_url, slow_settings.redis_namespace)
    await bus.start()
    yield bus
    await bus.stop()


class UnreadSocket:
    """A websocket client over a raw socket with a 4 KB receive buffer: once subscribed it reads
    nothing until ``rest`` is called (sans-I/O websockets, so no library reads on its behalf)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.protocol = ClientProtocol(parse_uri(f"ws://127.0.0.1:{port}/ws"), max_size=None)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.setblocking(False)
        self.frames: list[Frame] = []
        self.received_bytes = 0

    async def _flush(self) -> None:
        for chunk in self.protocol.data_to_send():
            await asyncio.get_running_loop().sock_sendall(self.sock, chunk)

    async def _frame(self) -> Frame:
        while True:
            self.frames += [e for e in self.protocol.events_received() if isinstance(e, Frame)]
            if self.frames:
                return self.frames.pop(0)
            data = await asyncio.get_running_loop().sock_recv(self.sock, 65536)
            self.received_bytes += len(data)
            self.protocol.receive_data(data)
            if not data:
                raise ConnectionError("closed without a close frame")

    async def open(self, token: str, channel: str) -> None:
        await asyncio.get_running_loop().sock_connect(self.sock, ("127.0.0.1", self.port))
        self.protocol.send_request(self.protocol.connect())
        await self._flush()
        while self.protocol.state is not State.OPEN:
            data = await asyncio.get_running_loop().sock_recv(self.sock, 65536)
            assert data, "the server closed during the handshake"
            self.protocol.receive_data(data)
        for message in (protocol.Connect(token=token), protocol.Subscribe(channel=channel, id=1)):
            self.protocol.send_text(protocol.encoder.encode(message))
            await self._flush()
            reply = protocol.server_decoder.decode(bytes((await self._frame()).data))
            assert isinstance(reply, protocol.Connected | protocol.Subscribed)

    async def answer_a_ping(self) -> None:
        """Read up to the server's next ping and answer it (what came before it is read too)."""
        while (await self._frame()).opcode is not Opcode.PING:
            pass
        await self._flush()  # the protocol queued the pong

    async def rest(self) -> tuple[list[protocol.ServerMessage], int | None]:
        """Read everything left: the messages, and the close frame's code (None: no close frame)."""
        messages: list[protocol.ServerMessage] = []
        while True:
            try:
                frame = await asyncio.wait_for(self._frame(), 30)
            except ConnectionError:
                return messages, None
            if frame.opcode is Opcode.CLOSE:
                return messages, Close.parse(bytes(frame.data)).code
            if frame.opcode is not Opcode.TEXT:  # the server's pings, unanswered
                continue
            messages.append(protocol.server_decoder.decode(bytes(frame.data)))


def cut_offs(server: ServerProcess) -> list[dict[str, Any]]:
    """The server's log lines about slow consumers it cut off."""
    lines = [json.loads(line) for line in server.lines if line.startswith("{")]
    return [line for line in lines if str(line.get("message", "")).startswith("slow consumer cut off")]


async def test_a_client_that_stops_reading_is_cut_with_4008_within_the_bound(
    server: ServerProcess, publisher: RedisBus, slow_settings: Settings
) -> None:
    channel = f"video:{uuid.uuid4().hex[:10]}"
    slow = UnreadSocket(server.port)
    await slow.open((await person(slow_settings)).token, channel)
    stopped_reading = time.monotonic()
    reader, _ = await Client.connect(server.ws_url, (await person(slow_settings)).token)
    await reader.subscribe(channel)
    published = 0
    while not cut_offs(server):
        assert published * len(BODY) < BUDGET, "the slow consumer was never cut off"
        sent = await publisher.publish(channel, BODY)
        published += 1
        # Everyone else receives every publication, in order, throughout.
        assert (await asyncio.wait_for(reader.publication(), 10)).offset == sent.offset
    cut_seen = time.monotonic()
    (line,) = cut_offs(server)
    assert line["level"] == "warning"
    assert line["cut_offs"] == 1
    # The cut came before the frame that would have taken the waiting bytes past the limit.
    assert LIMIT <= line["waiting_bytes"] <= LIMIT + 2 * len(BODY)

    for _ in range(3):  # the others go on after the cut-off
        after = await publisher.publish(channel, BODY)
        assert (await asyncio.wait_for(reader.publication(), 10)).offset == after.offset
    await reader.close()

    messages, code = await slow.rest()
    assert code == protocol.CLOSE_SLOW_CONSUMER
    goodbye = messages[-1]
    assert goodbye == protocol.Disconnect(
        code=protocol.CLOSE_SLOW_CONSUMER, reason=goodbye.reason, reconnect=True
    ), goodbye
    got = [m for m in messages if isinstance(m, protocol.Publication)]
    assert [p.offset for p in got] == list(range(got[0].offset, got[0].offset + len(got)))  # no hole
    print(
        f"\nslow consumer: cut after {published} publications ({published * len(BODY)} bytes) "
        f"published, seen {cut_seen - stopped_reading:.2f}s after it stopped reading; "
        f"waiting in the server at the cut: "
        f"{line['waiting_bytes']} bytes ({line['waiting_frames']} frames queued, "
        f"{line['transport_bytes']} in the transport); the client then read {slow.received_bytes} bytes "
        f"({len(got)} publications) before the goodbye"
    )


async def test_a_ping_timeout_drops_a_socket_whose_buffers_are_full(
    slow_settings: Settings, publisher: RedisBus
) -> None:
    """The close frame cannot reach a client whose buffers are full, and the transport's close
    waits for them to drain: before, such a socket (and what the server held for it) stayed for
    ever. It is dropped ``close_timeout`` (10 s) after the ping timeout's cut-off."""
    server = ServerProcess(
        msgspec.structs.replace(slow_settings, ws_ping_seconds=0.5, ws_send_buffer_bytes=64 * 1024**2)
    )
    await server.start()
    try:
        channel = f"video:{uuid.uuid4().hex[:10]}"
        watcher, _ = await Client.connect(server.ws_url)  # its library answers pings
        await watcher.subscribe(channel)
        silent_user = await person(slow_settings)
        silent = UnreadSocket(server.port)  # answers no ping, reads nothing once subscribed
        await silent.open(silent_user.token, channel)
        big = msgspec.json.encode({"text": "x" * 60_000})
        for _ in range(80):  # about 5 MB: more than the kernel's buffers take
            await publisher.publish(channel, big)
        while True:  # the silent client's leave comes once its socket is dropped
            event = await asyncio.wait_for(watcher.events.get(), 30)
            if isinstance(event, protocol.Leave) and event.user.id == str(silent_user.id):
                break
        # Frames were sent to it and it never answered a ping: cut off as a slow consumer.
        assert [line["cause"] for line in cut_offs(server)] == ["ping"]
        assert isinstance(await watcher.request(protocol.Ping()), protocol.Pong)
        await watcher.close()
    finally:
        assert await server.stop() == 0


async def test_a_client_that_stops_reading_does_not_hold_a_shutdown(
    slow_settings: Settings, publisher: RedisBus
) -> None:
    """On SIGTERM uvicorn closes every socket and waits for each to go: one whose client reads
    nothing never drained, and the process never exited."""
    server = ServerProcess(msgspec.structs.replace(slow_settings, ws_send_buffer_bytes=64 * 1024**2))
    await server.start()
    channel = f"video:{uuid.uuid4().hex[:10]}"
    silent = UnreadSocket(server.port)
    await silent.open((await person(slow_settings)).token, channel)
    watcher, _ = await Client.connect(server.ws_url)
    await watcher.subscribe(channel)
    big = msgspec.json.encode({"text": "x" * 60_000})
    for _ in range(80):  # about 5 MB: more than the kernel's buffers take
        sent = await publisher.publish(channel, big)
        assert (await watcher.publication(10)).offset == sent.offset
    assert await server.stop() == 0  # within its 30 s
    await watcher.close()


PING = 1.0
RATE = 20  # publications a second of 1.5 KB: 30 KB/s, far below any byte bound


async def test_a_client_that_stops_reading_at_a_low_rate_is_cut_with_4008_by_the_ping(
    slow_settings: Settings, publisher: RedisBus
) -> None:
    """At a low rate the kernel's buffers take everything for as long as pings are allowed to go
    unanswered, so no byte bound is reached: the ping timeout, with frames sent since the last
    pong, is what shows the client stopped reading. Before, it closed with 1011 and logged no cut.
    The client answers a ping first, as every websocket library does while it reads."""
    server = ServerProcess(
        msgspec.structs.replace(slow_settings, ws_ping_seconds=PING, ws_send_buffer_bytes=1024 * 1024)
    )
    await server.start()
    try:
        channel = f"video:{uuid.uuid4().hex[:10]}"
        slow = UnreadSocket(server.port)
        await slow.open((await person(slow_settings)).token, channel)
        reader, _ = await Client.connect(server.ws_url, (await person(slow_settings)).token)
        await reader.subscribe(channel)
        await asyncio.wait_for(slow.answer_a_ping(), PING + 10)  # its library answers pings; then it stops
        stopped_reading = time.monotonic()
        published = 0
        while not cut_offs(server) and not any("did not answer pings" in line for line in server.lines):
            assert time.monotonic() - stopped_reading < 2 * PING + 5, "never cut off"
            sent = await publisher.publish(channel, BODY)
            published += 1
            assert (await asyncio.wait_for(reader.publication(), 10)).offset == sent.offset
            await asyncio.sleep(1 / RATE)  # the rate is the point: low enough for no byte bound
        cut_seen = time.monotonic()
        (line,) = cut_offs(server)
        assert line["level"] == "warning"
        assert line["cause"] == "ping"
        assert line["waiting_bytes"] < 1024 * 1024
        # Within the bound: a ping answered just before it stopped, the next one unanswered.
        assert cut_seen - stopped_reading <= 2 * PING + 1

        for _ in range(3):  # the others go on after the cut-off
            after = await publisher.publish(channel, BODY)
            assert (await asyncio.wait_for(reader.publication(), 10)).offset == after.offset
        assert isinstance(await reader.request(protocol.Ping()), protocol.Pong)
        await reader.close()

        messages, code = await slow.rest()
        assert code == protocol.CLOSE_SLOW_CONSUMER
        assert messages[-1] == protocol.Disconnect(
            code=protocol.CLOSE_SLOW_CONSUMER,
            reason=messages[-1].reason,
            reconnect=True,  # type: ignore[union-attr]
        ), messages[-1]
        got = [m for m in messages if isinstance(m, protocol.Publication)]
        assert [p.offset for p in got] == list(range(got[0].offset, got[0].offset + len(got)))
        print(
            f"\nslow consumer at {RATE}/s, pings every {PING}s: cut {cut_seen - stopped_reading:.2f}s "
            f"after it stopped reading, {published} publications ({published * len(BODY)} bytes) "
            f"published by then; waiting in the server at the cut: {line['waiting_bytes']} bytes; "
            f"the client then read {len(got)} publications before the goodbye"
        )
    finally:
        assert await server.stop() == 0


async def test_a_client_sent_nothing_that_stops_answering_pings_is_closed_with_1011(
    slow_settings: Settings,
) -> None:
    """Nothing was sent to it since its last pong: a dead network, not a slow reader. It keeps
    the ping timeout's 1011, and no cut-off is counted."""
    server = ServerProcess(msgspec.structs.replace(slow_settings, ws_ping_seconds=PING))
    await server.start()
    try:
        silent = UnreadSocket(server.port)
        await silent.open((await person(slow_settings)).token, f"video:{uuid.uuid4().hex[:10]}")
        await asyncio.wait_for(silent.answer_a_ping(), PING + 10)  # then its network dies
        messages, code = await silent.rest()
        assert code == 1011
        assert messages == []
    finally:
        assert await server.stop() == 0
    # Read once the server has stopped and its log is all in: the line may come after the close.
    assert any("did not answer pings" in line for line in server.lines)
    assert cut_offs(server) == []

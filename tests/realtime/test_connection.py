"""The send queue of one connection: a client that stops reading is cut off, not buffered."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from websockets.client import ClientProtocol
from websockets.frames import Frame
from websockets.protocol import State
from websockets.uri import parse_uri

from realtime import protocol
from realtime.connection import Connection, CutOffs
from realtime.frames import Outgoing


class StuckSocket:
    """A socket whose client stopped reading after ``accepts`` frames: sends never finish."""

    def __init__(self, accepts: int) -> None:
        self.accepts = accepts
        self.sent: list[str] = []
        self.closed = asyncio.get_running_loop().create_future()

    async def send(self, frame: str) -> None:
        if len(self.sent) >= self.accepts:
            await asyncio.Event().wait()  # blocks like a full TCP buffer
        self.sent.append(frame)

    async def close(self, code: int, reason: str) -> None:
        self.closed.set_result((code, reason))


async def test_an_overflowing_queue_closes_with_slow_consumer() -> None:
    socket = StuckSocket(accepts=3)
    connection = Connection(socket.send, socket.close, None, queue_size=5)
    for n in range(50):
        connection.send(f"frame {n}")
        await asyncio.sleep(0)  # let the writer run between frames, as the event loop would
    code, _ = await asyncio.wait_for(socket.closed, 5)
    assert code == protocol.CLOSE_SLOW_CONSUMER
    assert connection.closing is not None
    assert len(socket.sent) == 3
    connection.send("after the close")  # ignored, no error
    assert len(socket.sent) == 3


async def test_a_normal_close_delivers_what_was_queued_then_the_goodbye() -> None:
    socket = StuckSocket(accepts=100)
    connection = Connection(socket.send, socket.close, None, queue_size=10)
    for n in range(3):
        connection.send(f"frame {n}")
    connection.close(protocol.CLOSE_SHUTDOWN, "bye")
    code, reason = await asyncio.wait_for(socket.closed, 5)
    assert (code, reason) == (protocol.CLOSE_SHUTDOWN, "bye")
    assert socket.sent[:3] == ["frame 0", "frame 1", "frame 2"]
    goodbye = protocol.server_decoder.decode(socket.sent[3])
    assert goodbye == protocol.Disconnect(code=protocol.CLOSE_SHUTDOWN, reason="bye", reconnect=True)


async def test_a_client_gone_mid_write_ends_the_writer_quietly() -> None:
    """Nobody awaits the writer: an exception left on it would be "never retrieved"."""

    async def send(frame: str) -> None:
        raise ConnectionResetError("the client went away")

    async def close(code: int, reason: str) -> None:
        raise RuntimeError("cannot close a closed socket")

    connection = Connection(send, close, None, queue_size=10)
    connection.send("frame")
    writer = connection.writer
    assert writer is not None
    await asyncio.wait_for(writer, 5)
    assert writer.exception() is None
    assert connection.closing is not None
    connection.send("after")  # dropped: nothing more is written
    connection.close(protocol.CLOSE_SHUTDOWN, "bye")
    assert connection.writer is writer

    closing = Connection(send, close, None, queue_size=10)
    closing.close(protocol.CLOSE_SHUTDOWN, "bye")  # the goodbye fails too, and the close
    assert closing.writer is not None
    await asyncio.wait_for(closing.writer, 5)
    assert closing.writer.exception() is None


class HeldTransport:
    """What the server's transport holds for a client that stopped reading, and its hang-up."""

    def __init__(self, held: int) -> None:
        self.held = held
        self.hung_up: list[tuple[str, int, str]] = []
        self.stalled: Callable[[], None] | None = None

    def buffered(self) -> int:
        return self.held

    def hang_up(self, goodbye: str, code: int, reason: str) -> None:
        self.hung_up.append((goodbye, code, reason))

    def watch(self, stalled: Callable[[], None]) -> None:
        self.stalled = stalled


async def test_bytes_in_the_queue_and_the_transport_cut_a_slow_consumer_off() -> None:
    """Frames count by their bytes, and so do the bytes the transport holds: 30 KB there,
    three 20 KB frames and 10 KB of UTF-8 in the queue reach a 100 KB limit, whatever the
    frame count."""
    socket = StuckSocket(accepts=0)
    transport = HeldTransport(held=30_000)
    connection = Connection(
        socket.send, socket.close, None, queue_size=1000, buffer_bytes=100_000, transport=transport
    )
    cut_before = CutOffs.total
    for n in range(3):
        connection.send(str(n) * 20_000)
        await asyncio.sleep(0)  # the writer takes the first frame and blocks on it
    assert connection.closing is None and transport.hung_up == []
    connection.send("é" * 5_000)  # 10 KB once encoded: counted as such
    assert connection.closing is None
    connection.send("one frame too many")
    assert connection.closing is not None and connection.closing[0] == protocol.CLOSE_SLOW_CONSUMER
    assert CutOffs.total == cut_before + 1
    ((goodbye, code, _),) = transport.hung_up  # at once, not behind the stuck writer
    assert code == protocol.CLOSE_SLOW_CONSUMER
    assert protocol.server_decoder.decode(goodbye) == protocol.Disconnect(
        code=protocol.CLOSE_SLOW_CONSUMER, reason=connection.closing[1], reconnect=True
    )
    assert not socket.closed.done()  # the transport closed it; the stuck send was abandoned


async def test_a_transport_that_reports_an_unanswered_ping_cuts_the_client_off() -> None:
    """Far below every bound, the transport's word that a ping went unanswered with frames
    unread is a slow consumer too: the same goodbye, hang-up and count, once."""
    socket = StuckSocket(accepts=0)
    transport = HeldTransport(held=2_000)
    connection = Connection(
        socket.send, socket.close, None, queue_size=1000, buffer_bytes=100_000, transport=transport
    )
    connection.send("a frame")
    await asyncio.sleep(0)
    cut_before = CutOffs.total
    assert transport.stalled is not None
    transport.stalled()
    assert connection.closing is not None and connection.closing[0] == protocol.CLOSE_SLOW_CONSUMER
    ((goodbye, code, _),) = transport.hung_up
    assert code == protocol.CLOSE_SLOW_CONSUMER
    assert protocol.server_decoder.decode(goodbye) == protocol.Disconnect(
        code=protocol.CLOSE_SLOW_CONSUMER, reason=connection.closing[1], reconnect=True
    )
    transport.stalled()  # already closing: nothing more
    assert len(transport.hung_up) == 1
    assert CutOffs.total == cut_before + 1


class Sink(HeldTransport):
    """A transport that takes whole frames (``FrameSink``), recording each write."""

    def __init__(self, held: int = 0) -> None:
        super().__init__(held)
        self.writes: list[list[bytes]] = []

    def write_frames(self, frames: Sequence[bytes]) -> bool:
        self.writes.append(list(frames))
        return True


def texts(frames: list[bytes]) -> list[str]:
    """The messages of frames written in one go, parsed back as a client would."""
    parser = ClientProtocol(parse_uri("ws://localhost/"), state=State.OPEN)
    parser.receive_data(b"".join(frames))
    return [bytes(e.data).decode() for e in parser.events_received() if isinstance(e, Frame)]


async def test_frames_of_one_loop_iteration_go_out_in_one_write_in_order() -> None:
    socket, sink = StuckSocket(accepts=0), Sink()
    connection = Connection(socket.send, socket.close, None, queue_size=100, transport=sink, sink=sink)
    shared = Outgoing(b'{"n":2}')
    connection.send('{"n":1}')
    connection.deliver(shared)
    connection.send_message(protocol.Pong(id=3))
    assert sink.writes == []  # nothing written yet, and no task per socket
    assert connection.writer is None
    await asyncio.sleep(0)  # the end of this iteration: the outlet writes
    (first,) = sink.writes
    assert texts(first) == ['{"n":1}', '{"n":2}', protocol.encoder.encode(protocol.Pong(id=3)).decode()]
    assert first[1] is shared.frame  # the same bytes for every socket, encoded once
    connection.deliver(Outgoing(b'{"n":4}'))
    await asyncio.sleep(0)
    assert [texts(w) for w in sink.writes[1:]] == [['{"n":4}']]
    assert socket.sent == []  # the ASGI send is not used for frames


async def test_a_close_writes_what_waits_then_the_goodbye_then_closes() -> None:
    socket, sink = StuckSocket(accepts=0), Sink()
    connection = Connection(socket.send, socket.close, None, queue_size=100, transport=sink, sink=sink)
    connection.send('{"n":1}')
    connection.close(protocol.CLOSE_SHUTDOWN, "bye")
    (written,) = sink.writes
    *frames, goodbye = texts(written)
    assert frames == ['{"n":1}']
    assert protocol.server_decoder.decode(goodbye) == protocol.Disconnect(
        code=protocol.CLOSE_SHUTDOWN, reason="bye", reconnect=True
    )
    assert connection.writer is not None
    await asyncio.wait_for(connection.writer, 5)
    assert await socket.closed == (protocol.CLOSE_SHUTDOWN, "bye")
    connection.send("after the close")
    await asyncio.sleep(0)
    assert len(sink.writes) == 1


async def test_bytes_the_transport_holds_and_this_iterations_frames_cut_a_slow_consumer_off() -> None:
    """Written straight, frames wait in the transport: its bytes, with the frames not yet
    written this iteration, reach the bound; the cut drops those frames and hangs up at once."""
    socket, sink = StuckSocket(accepts=0), Sink(held=60_000)
    connection = Connection(
        socket.send, socket.close, None, queue_size=1000, buffer_bytes=100_000, transport=sink, sink=sink
    )
    cut_before = CutOffs.total
    big = Outgoing(b'"' + b"x" * 19_998 + b'"')
    connection.deliver(big)
    connection.deliver(big)  # 60 000 held + 40 008 waiting: the next frame finds the bound reached
    assert connection.closing is None
    connection.deliver(big)
    assert connection.closing is not None and connection.closing[0] == protocol.CLOSE_SLOW_CONSUMER
    assert CutOffs.total == cut_before + 1
    ((_, code, _),) = sink.hung_up
    assert code == protocol.CLOSE_SLOW_CONSUMER
    await asyncio.sleep(0)
    assert sink.writes == []  # the backlog was dropped, not written behind the goodbye

"""The send queue of one connection: a client that stops reading is cut off, not buffered."""

from __future__ import annotations

import asyncio

from realtime import protocol
from realtime.connection import Connection


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

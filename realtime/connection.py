"""One client's socket as the node sees it: frames written straight to its transport, or, without
one, a bounded send queue drained by a writer task.

The server (``realtime.uvicorn_ws``) offers each socket a ``FrameSink``: then a frame costs the
fan-out a list append, and once per loop iteration every socket that got frames has them written
to its transport in one write (``Outlet``), with no task per socket, so a burst of publications
reaches a client in as few writes (and wake-ups) as the loop's ticks allow. Under load the outlet
also waits, between writes, for a coalescing window (``MYDRTV_WS_WRITE_COALESCE_MS``), so events
of separate ticks share a write too. The frames stay one message each: the protocol does not change.

Without a sink (tests' stand-in sockets), frames wait in a queue for a writer task.

Either way fan-out only hands on an already-encoded frame; a client that does not read fast enough
is disconnected with ``CLOSE_SLOW_CONSUMER`` instead of growing the server's memory. What counts is
every byte waiting for it in this process: the queue here and what the server's transport holds
(``Transport``, offered by ``realtime.uvicorn_ws``), since the writer hands frames on until the
transport's own buffer is full, and a count of queued frames alone never saw those. Written
straight, frames wait in the transport at once, so that is where nearly all of them are counted.
The writer task and the queue (or the frames of the tick) exist only while frames wait, so an idle
socket costs none of them.
A client that stops reading while little is published fills none of these before the kernel's
socket buffers are full (capped on the server's side, ``MYDRTV_WS_SOCKET_SEND_BUFFER_BYTES``):
the transport tells when such a client lets a ping go unanswered with frames sent since its last
pong, or since it connected (``Transport.watch``), and that cuts it off too.
A client may vanish in the middle of a write: the writer then ends quietly (nobody awaits it, so
an exception would only surface as "Task exception was never retrieved").
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, ClassVar, Protocol

from core.tokens import Principal
from realtime import protocol
from realtime.frames import Outgoing, text_frame

log = logging.getLogger(__name__)

SendText = Callable[[str], Awaitable[None]]
Close = Callable[[int, str], Awaitable[None]]

TRANSPORT = "mydrtv.transport"
"""The ASGI scope extension (``{"transport": Transport}``) by which the server offers it."""


class Transport(Protocol):
    """What the server offers beyond ASGI for one socket: how much it holds, a close that does
    not wait for the client to read what it holds, and word of a client that stopped reading."""

    def buffered(self) -> int:
        """Bytes written to the socket's transport that the kernel has not taken yet."""
        ...

    def hang_up(self, goodbye: str, code: int, reason: str) -> None:
        """Write ``goodbye`` and the close frame behind what is buffered, at once; drop the
        socket if the client has not read them within the server's close timeout."""
        ...

    def watch(self, stalled: Callable[[], None]) -> None:
        """Call ``stalled`` instead of closing the socket when the client lets a ping go
        unanswered while frames sent since its last pong may still wait for it."""
        ...


class FrameSink(Protocol):
    """A socket's transport that takes whole websocket frames, encoded, and writes them at once."""

    def write_frames(self, frames: Sequence[bytes]) -> bool:
        """Write ``frames`` in one write behind what the transport holds; False (nothing written)
        once the socket is closing."""
        ...


def transport_of(scope: Mapping[str, Any]) -> Transport | None:
    """The socket's ``Transport``, when the server offers one (our uvicorn protocol does)."""
    offered = (scope.get("extensions") or {}).get(TRANSPORT) or {}
    transport: Transport | None = offered.get("transport")
    return transport


def sink_of(scope: Mapping[str, Any]) -> FrameSink | None:
    """The socket's ``FrameSink``, when the server offers one (ours does, unless the socket
    negotiated compression: its frames are then the websockets library's to encode)."""
    offered = (scope.get("extensions") or {}).get(TRANSPORT) or {}
    sink: FrameSink | None = offered.get("frames")
    return sink


class Outlet:
    """Writes the frames each socket got, in one write per socket: at the end of the event loop
    iteration, or, with a coalescing ``window``, no sooner than ``window`` seconds after the
    outlet's previous write.

    A socket joins the list with its first frame since its last write; one callback hands every
    listed socket's frames to its transport. Idle (nothing written within the window), that
    callback runs at the end of this iteration, so a lone event waits for nothing; under load it
    runs a window after the previous one, so the frames of every event published meanwhile share
    one write per socket: at 100 events/s to 1000 sockets, one ``write`` per socket and window
    instead of one per socket and event, and each costs about as much as a lone frame's.

    A socket's replies to its own requests (``urgent``) do not wait for the window: they go out,
    behind what the socket already has waiting, at the end of this iteration (a ``time_sync``
    answer delayed by the window would widen the client's clock bounds). One outlet per loop and
    window."""

    __slots__ = ("_due", "_last", "_now", "_timer", "loop", "window")

    def __init__(self, loop: asyncio.AbstractEventLoop, window: float = 0.0) -> None:
        self.loop = loop
        self.window = window
        self._due: list[Connection] = []  # flushed by the windowed callback
        self._now: list[Connection] = []  # flushed at the end of this iteration
        self._timer: asyncio.TimerHandle | None = None
        self._last = -window  # loop time of the last windowed flush

    def add(self, connection: Connection) -> None:
        """Write ``connection``'s frames with the next (windowed) flush."""
        if not self._due:
            due = self._last + self.window
            if self.window and due > self.loop.time():
                self._timer = self.loop.call_at(due, self._flush)
            else:
                self.loop.call_soon(self._flush)
        self._due.append(connection)

    def hurry(self, connection: Connection) -> None:
        """Write ``connection``'s frames at the end of this iteration, window or not."""
        if not self.window:
            self.add(connection)
            return
        if not self._now:
            self.loop.call_soon(self._flush_now)
        self._now.append(connection)

    def _flush(self) -> None:
        due, self._due = self._due, []
        self._timer = None
        if self.window:
            self._last = self.loop.time()
        for connection in due:
            connection.flush()

    def _flush_now(self) -> None:
        now, self._now = self._now, []
        for connection in now:
            connection.flush()


class _Current:
    outlets: ClassVar[dict[float, Outlet]] = {}
    loop: ClassVar[asyncio.AbstractEventLoop | None] = None


def outlet(window: float = 0.0) -> Outlet:
    """The running loop's outlet for ``window`` (the server runs one loop; tests start one after
    another)."""
    loop = asyncio.get_running_loop()
    if _Current.loop is not loop:
        _Current.loop, _Current.outlets = loop, {}
    current = _Current.outlets.get(window)
    if current is None:
        current = _Current.outlets[window] = Outlet(loop, window)
    return current


class CutOffs:
    """Slow consumers this process has cut off; each cut's log line carries the running total."""

    total = 0


def size_of(frame: str) -> int:
    """Bytes of ``frame`` once encoded; an ASCII frame (the common case) is not encoded to tell."""
    return len(frame) if frame.isascii() else len(frame.encode())


class Connection:
    __slots__ = (
        "_buffer_bytes",
        "_close",
        "_hurried",
        "_on_close",
        "_out",
        "_outlet",
        "_queue",
        "_queue_size",
        "_queued_bytes",
        "_send",
        "_sink",
        "_transport",
        "channels",
        "closing",
        "id",
        "pending",
        "principal",
        "writer",
    )

    def __init__(
        self,
        send: SendText,
        close: Close,
        principal: Principal | None,
        queue_size: int,
        on_close: Callable[[Connection], None] | None = None,
        *,
        buffer_bytes: int | None = None,
        transport: Transport | None = None,
        sink: FrameSink | None = None,
        outlet: Outlet | None = None,
    ) -> None:
        self.id = uuid.uuid4().hex
        self.principal = principal
        self.channels: set[str] = set()
        # Channels being subscribed: live publications wait here until the reply has gone out.
        self.pending: dict[str, list[protocol.Publication]] = {}
        self._send = send
        self._close = close
        # Frames waiting for the writer (None: close the socket after what came before); the deque
        # (760 bytes even when empty) exists only while something waits.
        self._queue: deque[str | None] | None = None
        self._queued_bytes = 0  # of the frames in the queue (the one being written included) or ``_out``
        # With a sink: the frames waiting for the outlet's next write.
        self._sink = sink
        self._out: list[bytes] | None = None
        self._outlet = outlet  # None: the loop's outlet without a window
        self._hurried = False  # ``_out`` is due at the end of this iteration, window or not
        self.writer: asyncio.Task[None] | None = None
        self._queue_size = queue_size
        self._buffer_bytes = buffer_bytes
        self._transport = transport
        self._on_close = on_close
        self.closing: tuple[int, str] | None = None
        if transport is not None:
            transport.watch(self._stalled)

    def waiting(self) -> tuple[int, int]:
        """Frames waiting here and bytes waiting for the client (here and in the transport)."""
        waiting = self._out if self._sink is not None else self._queue
        held = self._transport.buffered() if self._transport is not None else 0
        return (len(waiting) if waiting is not None else 0), self._queued_bytes + held

    def send(self, frame: str) -> None:
        """Send a message of this socket's own; never blocks (see ``deliver``)."""
        if self._sink is not None:
            self._push(text_frame(frame.encode()), urgent=True)
        else:
            self._enqueue(frame)

    def deliver(self, message: Outgoing) -> None:
        """Send a message encoded once for many sockets; never blocks. A frame that finds
        ``queue_size`` frames or ``buffer_bytes`` bytes already waiting disconnects the slow
        client instead."""
        if self._sink is not None:
            self._push(message.frame)
        else:
            self._enqueue(message.text)

    def _over(self, frames: int, held: int) -> bool:
        return frames >= self._queue_size or (
            self._buffer_bytes is not None and self._queued_bytes + held >= self._buffer_bytes
        )

    def _push(self, frame: bytes, urgent: bool = False) -> None:
        """Keep ``frame`` for the outlet's next write; ``urgent`` (a reply to this socket's own
        request): at the end of this loop iteration, with what waits before it."""
        if self.closing is not None:
            return
        out = self._out
        held = self._transport.buffered() if self._transport is not None else 0
        if self._over(len(out) if out is not None else 0, held):
            self._cut_off(len(out) if out is not None else 0, held)
            return
        if out is None:
            out = self._out = []
            writer = self._outlet or outlet()
            if urgent:
                writer.hurry(self)
            else:
                writer.add(self)
            self._hurried = urgent
        elif urgent and not self._hurried:  # waiting for a window: now due at once
            writer = self._outlet or outlet()
            if writer.window:
                self._hurried = True
                writer.hurry(self)
        out.append(frame)
        self._queued_bytes += len(frame)

    def flush(self) -> None:
        """Write the frames waiting for this socket to its transport, in one write."""
        out, self._out = self._out, None
        self._queued_bytes = 0
        self._hurried = False
        if out and self._sink is not None:
            # False: uvicorn is closing the socket (a ping timeout, a shutdown); the receiving
            # side ends with the disconnect, so the frames are dropped here, as in ``abandon``.
            self._sink.write_frames(out)

    def _enqueue(self, frame: str) -> None:
        """Queue a frame for the writer task."""
        if self.closing is not None:
            return
        queue = self._waiting()
        held = self._transport.buffered() if self._transport is not None else 0
        if self._over(len(queue), held):
            self._cut_off(len(queue), held)
            return
        self._append(queue, frame)
        self._wake_writer()

    def _stalled(self) -> None:
        """The client left a ping unanswered with frames it has not read: a slow consumer that
        the kernel's buffers hid from the bounds above."""
        if self.closing is None:
            waiting = self._out if self._sink is not None else self._queue
            queued = len(waiting) if waiting is not None else 0
            self._cut_off(queued, self._transport.buffered() if self._transport is not None else 0, "ping")

    def _cut_off(self, frames: int, held: int, cause: str = "buffer") -> None:
        CutOffs.total += 1
        log.warning(
            "slow consumer cut off (4008)",
            extra={
                "client": self.id,
                "user": str(self.principal.id) if self.principal else None,
                "waiting_bytes": self._queued_bytes + held,
                "waiting_frames": frames,
                "transport_bytes": held,
                "cause": cause,  # "buffer": the bounds above; "ping": an unanswered ping
                "cut_offs": CutOffs.total,
            },
        )
        self.close(protocol.CLOSE_SLOW_CONSUMER, "slow consumer: the client did not read fast enough")

    def send_message(self, message: protocol.ServerMessage) -> None:
        if self._sink is not None:
            self._push(text_frame(protocol.encoder.encode(message)), urgent=True)
        else:
            self._enqueue(protocol.encoder.encode(message).decode())

    def close(self, code: int, reason: str) -> None:
        """Tell the client why, then close once what was queued before has been written.

        ``disconnect.reconnect`` follows from the code (``protocol.reconnects``). A slow
        consumer's backlog is dropped: it would never drain, and the goodbye must go out.
        """
        if self.closing is not None:
            return
        self.closing = (code, reason)
        if self._on_close is not None:
            self._on_close(self)
        goodbye = protocol.Disconnect(code=code, reason=reason, reconnect=protocol.reconnects(code))
        text = protocol.encoder.encode(goodbye).decode()
        if code == protocol.CLOSE_SLOW_CONSUMER:
            self._queue = None
            self._out = None
            self._queued_bytes = 0
            stuck = self.writer is not None and not self.writer.done()
            if stuck:
                # The writer may be stuck in a send the client never reads: stop waiting for it.
                assert self.writer is not None
                self.writer.cancel()
            if self._transport is not None:
                # The goodbye and the close go behind what the transport holds, without waiting.
                self._transport.hang_up(text, code, protocol.close_reason(reason))
                self.writer = None
                return
            if stuck:
                self.writer = asyncio.create_task(self._hang_up(code, reason))
                return
        if self._sink is not None:
            # The goodbye behind this iteration's frames, written now; then uvicorn's close.
            self._out = [*(self._out or ()), text_frame(text.encode())]
            self.flush()
            self.writer = asyncio.create_task(self._hang_up(code, reason))
            return
        queue = self._waiting()
        self._append(queue, text)
        queue.append(None)
        self._wake_writer()

    def abandon(self) -> None:
        """The client is gone: write nothing more. What waits is dropped; a send in progress ends
        on its own (with an error the writer swallows)."""
        if self.closing is None:
            self.closing = (1006, "the client went away")
        self._out = None
        if self._queue is not None:
            self._queue.clear()
        self._queued_bytes = 0

    def _append(self, queue: deque[str | None], frame: str) -> None:
        queue.append(frame)
        self._queued_bytes += size_of(frame)

    def _waiting(self) -> deque[str | None]:
        if self._queue is None:
            self._queue = deque()
        return self._queue

    async def _hang_up(self, code: int, reason: str) -> None:
        try:
            await self._close(code, protocol.close_reason(reason))
        except Exception:
            log.debug("closing a socket that was already gone", exc_info=True)

    def _wake_writer(self) -> None:
        if self.writer is None or self.writer.done():
            self.writer = asyncio.create_task(self._write())

    async def _write(self) -> None:
        """Send queued frames in order until none is left; ``None`` closes the socket.

        A frame leaves the queue once sent, not before: while the send waits for the transport
        to drain, its bytes still count as waiting."""
        queue = self._queue
        try:
            while queue:
                frame = queue[0]
                if frame is None:
                    code, reason = self.closing or (1000, "")
                    await self._close(code, protocol.close_reason(reason))
                    return
                await self._send(frame)
                if queue:  # not cleared meanwhile by ``abandon``
                    queue.popleft()
                    self._queued_bytes -= size_of(frame)
        except Exception:
            # The client went away under the send (uvicorn and Litestar raise several kinds of
            # error for that). The receiving side sees the disconnect and cleans up.
            log.debug("writing to a socket that is gone", exc_info=True)
            self.abandon()
            return
        # Drained: an idle socket keeps neither the empty queue nor this finished task.
        self._queue = None
        self.writer = None

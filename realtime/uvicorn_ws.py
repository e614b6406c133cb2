"""uvicorn's Sans-I/O websocket protocol, less what an idle socket has no need to keep.

For every socket, uvicorn's ``WebSocketsSansIOProtocol`` holds an ``asyncio.Queue`` of inbound
events and an ``asyncio.Event`` for write backpressure: five ``collections.deque`` of 760 bytes
each, empty nearly all the time. It keeps the handshake's request and response, headers and all,
for the socket's whole life, and sets so many attributes that every instance gets a dict of its
own. This subclass swaps the queue and the event for objects that allocate only while something
waits, lets go of the handshake once the socket is accepted, and moves ten attributes into slots:
together about 10 KB less per idle socket (BENCHMARKS.md, "Idle connections").

It also offers the gateway what ASGI does not (``realtime.connection.Transport`` and
``FrameSink``, in the scope's extensions): a write of frames the gateway encoded once for all its
sockets, straight to the transport without a task or an ASGI message per frame; how many bytes the
transport holds for the socket, so a slow consumer is measured by what really waits for it; and
a close that goes out at once behind those bytes, with a deadline, instead of waiting for a client
that no longer reads (uvicorn's close, its close after a ping timeout and its close at shutdown
wait for the transport to drain: for ever, if the client never reads again; here each is followed
by an abort ``close_timeout`` later).

It caps the socket's kernel send buffer (``SO_SNDBUF``, ``with_send_buffer``): left to itself,
Linux grows it to megabytes for a client that stops reading, which no byte bound of the server's
would count; capped, a slow consumer costs at most the server's bound plus a known size.

And a client that stops reading while little is published fills no buffer of the server's before
its ping times out: a ping timeout with frames sent since the last pong (or since it connected,
if no pong ever came) is that slow consumer, and the gateway's watcher (``Transport.watch``) cuts
it off with 4008 instead of uvicorn's 1011, which stays for a client sent nothing meanwhile.

Everything else (pings, backpressure, the close handshake) is uvicorn's own code, unchanged.
uvicorn's version is pinned because this relies on how it uses these attributes: ``queue``
through ``put_nowait``, ``get`` and ``empty``, by one receiving task; ``writable`` through ``set``,
``clear`` and ``wait``; ``request`` and ``response`` only until the handshake has completed; and
``conn``, ``transport``, ``close_sent``, ``close_timer`` and ``read_paused`` as its own close does.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable, Sequence
from typing import Any, cast

from uvicorn._types import ASGIReceiveEvent, ASGISendEvent
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import Frame
from websockets.http11 import Request

from realtime.connection import TRANSPORT

log = logging.getLogger("mydrtv.gateway")


class _Inbox:
    """What uvicorn uses of ``asyncio.Queue``, for the one task that receives (as ASGI has it).

    uvicorn stops reading the socket after each message until the application has taken it, so
    the inbox seldom holds more than one event: a list, and a future only while the task waits."""

    __slots__ = ("_events", "_waiter")

    def __init__(self) -> None:
        self._events: list[ASGIReceiveEvent] = []
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, event: ASGIReceiveEvent) -> None:
        self._events.append(event)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def empty(self) -> bool:
        return not self._events

    async def get(self) -> ASGIReceiveEvent:
        if self._waiter is not None:
            raise RuntimeError("another task is already receiving from this websocket")
        while not self._events:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._events.pop(0)


class _Gate:
    """What uvicorn uses of ``asyncio.Event`` to tell whether the transport may be written: open
    unless the transport asked to pause, with a future only while it is paused."""

    __slots__ = ("_paused",)

    def __init__(self) -> None:
        self._paused: asyncio.Future[None] | None = None

    def set(self) -> None:
        if self._paused is not None:
            if not self._paused.done():
                self._paused.set_result(None)
            self._paused = None

    def clear(self) -> None:
        if self._paused is None:
            self._paused = asyncio.get_running_loop().create_future()

    async def wait(self) -> None:
        while self._paused is not None:
            # Several tasks may wait (a slow consumer's writer, then its hang-up); shielded, one
            # of them being cancelled does not cancel the future the others wait on.
            await asyncio.shield(self._paused)


class LeanWebSocketProtocol(WebSocketsSansIOProtocol):
    # uvicorn sets 37 attributes on the protocol. From 30 on, CPython 3.11 stops sharing the
    # instance dict's keys between instances and gives every socket a 1.6 KB dict of its own; as
    # slots, these ten leave 27 in the dict, which then costs about 0.3 KB.
    __slots__ = (
        "close_timeout",
        "close_timer",
        "confirmed",
        "last_ping_rtt",
        "pending_ping_payload",
        "ping_sent_at",
        "ping_timer",
        "pong_timer",
        "request",
        "response",
        "scope",
        "sent",
        "sent_at_ping",
        "stalled",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = cast("asyncio.Queue[ASGIReceiveEvent]", _Inbox())
        self.writable = cast(asyncio.Event, _Gate())
        # Frames the app has sent; how many of them had gone when the ping in flight was sent;
        # and how many a pong has confirmed as read (a pong comes after what was sent before it).
        self.sent = 0
        self.sent_at_ping = 0
        self.confirmed = 0
        self.stalled: Callable[[], None] | None = None

    send_buffer = 0  # SO_SNDBUF for each socket; 0: the kernel's own (see ``with_send_buffer``)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        sock = transport.get_extra_info("socket")
        if self.send_buffer > 0 and sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self.send_buffer)

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        if not self.close_sent:  # accepted for the app: offer it the transport
            extensions = self.scope.get("extensions") or {}
            offered: dict[object, object] = {"transport": self}  # ASGI extensions are dicts
            if not self.conn.extensions:  # compressed frames are the library's to encode
                offered["frames"] = self
            extensions[TRANSPORT] = offered

    def buffered(self) -> int:
        """Bytes the transport holds for this socket (written, not yet taken by the kernel)."""
        return self.transport.get_write_buffer_size()

    def write_frames(self, frames: Sequence[bytes]) -> bool:
        """Write whole frames the gateway encoded (``realtime.frames``) in one write, as uvicorn's
        own send would write each, but without waiting while the transport is paused: the gateway
        bounds what waits (``buffered``) and cuts a slow consumer off. Nothing once closing."""
        if self.close_sent or self.disconnected or self.transport.is_closing():
            return False
        self.sent += len(frames)
        self.transport.write(frames[0] if len(frames) == 1 else b"".join(frames))
        return True

    def hang_up(self, goodbye: str, code: int, reason: str) -> None:
        """Close now: ``goodbye`` and the close frame go behind what is buffered, without waiting
        for the transport to drain (uvicorn's own close waits); a client that has not read them
        and answered within ``close_timeout`` is dropped, and its buffer freed."""
        if self.close_sent or self.disconnected or self.transport.is_closing():
            return
        self.queue.put_nowait({"type": "websocket.disconnect", "code": code, "reason": reason})
        self.conn.send_text(goodbye.encode())
        self.conn.send_close(code, reason)
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.close_sent = True
        if self.read_paused:  # the client's close frame must be read
            self.read_paused = False
            self.transport.resume_reading()
        self.close_timer = self.loop.call_later(self.close_timeout, self.transport.abort)

    def watch(self, stalled: Callable[[], None]) -> None:
        """Call ``stalled`` (once) instead of closing with 1011 when a ping goes unanswered while
        frames sent since the last pong may still wait for the client."""
        self.stalled = stalled

    def send_keepalive_ping(self) -> None:
        self.sent_at_ping = self.sent
        super().send_keepalive_ping()

    def handle_pong(self, event: Frame) -> None:
        if self.pending_ping_payload is not None and bytes(event.data) == self.pending_ping_payload:
            self.confirmed = self.sent_at_ping  # the client has read everything up to the ping
        super().handle_pong(event)

    def connection_lost(self, exc: Exception | None) -> None:
        self.stalled = None  # the watcher (a connection) refers back to this protocol
        super().connection_lost(exc)

    def keepalive_timeout(self) -> None:
        """A client that stops answering pings with frames sent since its last pong (or since it
        connected, if it never answered one) may not be reading them: a slow consumer, whatever
        the buffers took, cut off by the watcher (4008). One sent nothing since (a dead network)
        is closed with uvicorn's 1011."""
        if self.close_sent or self.transport.is_closing():
            return
        stalled, self.stalled = self.stalled, None
        if stalled is not None and self.confirmed < self.sent:
            self.pong_timer = None
            self.pending_ping_payload = None
            stalled()  # hangs up (``hang_up``) with the goodbye and 4008
            if not self.close_sent:  # the watcher had already let go: close as uvicorn would
                self._time_out()
            return
        self._time_out()

    def _time_out(self) -> None:
        """uvicorn closes with 1011, but its close frame waits behind whatever the transport
        holds, and the transport's close waits for that to drain: a client that stopped reading
        kept the socket and its buffer for ever. Drop it after ``close_timeout``; say so."""
        if self.close_sent or self.transport.is_closing():
            return
        log.info("a websocket did not answer pings in time: closed (1011)", extra={"client": self.client})
        super().keepalive_timeout()
        self.close_timer = self.loop.call_later(self.close_timeout, self.transport.abort)

    def shutdown(self) -> None:
        """uvicorn closes each socket (1012) when the server stops, and waits for every one to go;
        a socket whose client stopped reading never drained, and held the shutdown for ever."""
        super().shutdown()
        self.close_timer = self.loop.call_later(self.close_timeout, self.transport.abort)

    async def send(self, message: ASGISendEvent) -> None:
        if message["type"] == "websocket.send":
            self.sent += 1
        await super().send(message)
        if message["type"] == "websocket.accept" and self.handshake_complete:
            self._forget_handshake()

    def _forget_handshake(self) -> None:
        """Drop the handshake's headers: nothing reads them once the socket is open. The request
        stays referenced by the websockets parser (a local of its generator), so its headers are
        emptied in place."""
        self.request.headers.clear()
        self.response.headers.clear()
        del self.request, self.response


def with_send_buffer(size: int) -> type[LeanWebSocketProtocol]:
    """The protocol class for uvicorn, with each socket's ``SO_SNDBUF`` set to ``size`` bytes
    (Linux doubles it for its bookkeeping); 0 leaves the kernel's default and autotuning."""
    return type("LeanWebSocketProtocol", (LeanWebSocketProtocol,), {"__slots__": (), "send_buffer": size})

"""One client's socket as the node sees it: a bounded send queue drained by a writer task.

Fan-out only enqueues an already-encoded frame; a client that does not read fast enough fills its
queue and is disconnected with ``CLOSE_SLOW_CONSUMER`` instead of growing the server's memory.
The writer task and the queue exist only while frames wait, so an idle socket costs neither.
A client may vanish in the middle of a write: the writer then ends quietly (nobody awaits it, so
an exception would only surface as "Task exception was never retrieved").
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import deque
from collections.abc import Awaitable, Callable

from app.auth.tokens import Principal
from realtime import protocol

log = logging.getLogger(__name__)

SendText = Callable[[str], Awaitable[None]]
Close = Callable[[int, str], Awaitable[None]]


class Connection:
    __slots__ = (
        "_close",
        "_on_close",
        "_queue",
        "_queue_size",
        "_send",
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
        self.writer: asyncio.Task[None] | None = None
        self._queue_size = queue_size
        self._on_close = on_close
        self.closing: tuple[int, str] | None = None

    def send(self, frame: str) -> None:
        """Queue a frame; never blocks. An overflowing queue disconnects the slow client."""
        if self.closing is not None:
            return
        queue = self._waiting()
        if len(queue) >= self._queue_size:
            self.close(protocol.CLOSE_SLOW_CONSUMER, "slow consumer: the send queue overflowed")
            return
        queue.append(frame)
        self._wake_writer()

    def send_message(self, message: protocol.ServerMessage) -> None:
        self.send(protocol.encoder.encode(message).decode())

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
        if code == protocol.CLOSE_SLOW_CONSUMER:
            self._queue = None
            if self.writer is not None and not self.writer.done():
                # The writer may be stuck in a send the client never reads: stop waiting for it.
                self.writer.cancel()
                self.writer = asyncio.create_task(self._hang_up(code, reason))
                return
        goodbye = protocol.Disconnect(code=code, reason=reason, reconnect=protocol.reconnects(code))
        queue = self._waiting()
        queue.append(protocol.encoder.encode(goodbye).decode())
        queue.append(None)
        self._wake_writer()

    def abandon(self) -> None:
        """The client is gone: write nothing more. What waits is dropped; a send in progress ends
        on its own (with an error the writer swallows)."""
        if self.closing is None:
            self.closing = (1006, "the client went away")
        if self._queue is not None:
            self._queue.clear()

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
        """Send queued frames in order until none is left; ``None`` closes the socket."""
        queue = self._queue
        try:
            while queue:
                frame = queue.popleft()
                if frame is None:
                    code, reason = self.closing or (1000, "")
                    await self._close(code, protocol.close_reason(reason))
                    return
                await self._send(frame)
        except Exception:
            # The client went away under the send (uvicorn and Litestar raise several kinds of
            # error for that). The receiving side sees the disconnect and cleans up.
            log.debug("writing to a socket that is gone", exc_info=True)
            self.abandon()
            return
        # Drained: an idle socket keeps neither the empty queue nor this finished task.
        self._queue = None
        self.writer = None

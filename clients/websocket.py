"""A reference client of the websocket protocol, used by tests and benchmarks.

It keeps, per channel, where it stopped (epoch and offset), so ``resubscribe`` on a new
connection asks for exactly what was missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

import websockets
from websockets.asyncio.client import ClientConnection

from realtime import protocol


class ClientError(Exception):
    def __init__(self, error: protocol.Error) -> None:
        super().__init__(f"{error.code}: {error.message}")
        self.error = error


class Socket(Protocol):
    """What the client needs of a websocket: a ``ClientConnection``, or a wrapper around one (the
    party benchmark's simulated network)."""

    async def send(self, message: str) -> None: ...

    def __aiter__(self) -> AsyncIterator[str | bytes]: ...

    async def close(self) -> None: ...

    @property
    def close_code(self) -> int | None: ...


class Client:
    def __init__(self, socket: Socket) -> None:
        self.socket = socket
        self.positions: dict[str, protocol.Recover] = {}
        self.events: asyncio.Queue[protocol.ServerMessage] = asyncio.Queue()
        self.disconnect: protocol.Disconnect | None = None
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[protocol.ServerMessage]] = {}
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def connect(
        cls,
        url: str,
        token: str | None = None,
        *,
        wrap: Callable[[ClientConnection], Socket] | None = None,
        **options: Any,
    ) -> tuple[Client, protocol.Connected]:
        socket = await websockets.connect(url, **options)
        client = cls(wrap(socket) if wrap else socket)
        reply = await client.request(protocol.Connect(token=token))
        assert isinstance(reply, protocol.Connected)
        return client, reply

    async def _read(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for frame in self.socket:
                message = protocol.server_decoder.decode(frame)
                request_id = getattr(message, "id", None)
                if isinstance(message, protocol.Publication):
                    self.positions[message.channel] = protocol.Recover(message.epoch, message.offset)
                elif isinstance(message, protocol.Subscribed):
                    self._track(message)
                elif isinstance(message, protocol.Disconnect):
                    self.disconnect = message
                if request_id and request_id in self._waiting:
                    self._waiting.pop(request_id).set_result(message)
                else:
                    self.events.put_nowait(message)
        for waiter in self._waiting.values():
            waiter.set_exception(ConnectionError(f"connection closed: {self.disconnect}"))

    def _track(self, reply: protocol.Subscribed) -> None:
        self.positions[reply.channel] = protocol.Recover(reply.epoch, reply.offset)

    async def request(self, message: Any) -> protocol.ServerMessage:
        """Send a message with a fresh id and wait for the reply that carries it."""
        request_id = next(self._ids)
        message = type(message)(**{**_fields(message), "id": request_id})
        waiter: asyncio.Future[protocol.ServerMessage] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = waiter
        await self.socket.send(protocol.encoder.encode(message).decode())
        reply = await waiter
        if isinstance(reply, protocol.Error):
            raise ClientError(reply)
        return reply

    async def subscribe(self, channel: str, *, recover: bool = False) -> protocol.Subscribed:
        since = self.positions.get(channel) if recover else None
        reply = await self.request(protocol.Subscribe(channel=channel, recover=since))
        assert isinstance(reply, protocol.Subscribed)
        return reply

    async def publication(self, within: float = 5.0) -> protocol.Publication:
        """The next publication, skipping other events."""
        async with asyncio.timeout(within):
            while True:
                message = await self.events.get()
                if isinstance(message, protocol.Publication):
                    return message

    async def closed(self, within: float = 10.0) -> protocol.Disconnect | None:
        """Wait for the server to close the connection; returns the reason it gave, if any
        (``close_code`` has the websocket close code either way)."""
        await asyncio.wait_for(asyncio.shield(self._reader), within)
        return self.disconnect

    @property
    def close_code(self) -> int | None:
        return self.socket.close_code

    async def close(self) -> None:
        await self.socket.close()
        with contextlib.suppress(Exception):
            await self._reader


def _fields(message: Any) -> dict[str, Any]:
    return {name: getattr(message, name) for name in message.__struct_fields__}

"""The Redis bus: many processes share channels, offsets and history through one Redis.

A publication is appended to the channel's stream and published on its pub/sub channel by one
Lua script, so offsets are gap-free and history and delivery never disagree. Each node holds one
pub/sub connection and subscribes only to the channels its sockets use. Withdrawing a publication
(``redact``) is a second script; the meta hash's ``trimmed`` tells losses apart from withdrawals.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Sequence
from importlib import resources
from typing import Any

from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from app.redis_client import redis_client
from realtime.bus.base import Bus, Gap, Position, Publication, RecoveryFailed

_PUBLISH = resources.files(__package__).joinpath("publish.lua").read_text()
_REDACT = resources.files(__package__).joinpath("redact.lua").read_text()
IDEMPOTENCY_SECONDS = 24 * 3600


class RedisBus(Bus):
    def __init__(
        self, url: str, namespace: str, history_size: int = 1000, history_seconds: int = 600
    ) -> None:
        self._redis = redis_client(url)
        self._prefix = f"{namespace}:bus"
        self._history_size = history_size
        self._history_seconds = history_seconds
        self._script = self._redis.register_script(_PUBLISH)
        self._redact = self._redis.register_script(_REDACT)
        # A key must outlive the history it points into, or a redaction could miss its entry.
        self._key_seconds = max(IDEMPOTENCY_SECONDS, history_seconds)
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._queue: asyncio.Queue[Publication | Gap | None] = asyncio.Queue()
        self._live: set[str] = set()  # pub/sub channels to restore after a reconnect
        self._confirmations: dict[str, asyncio.Future[None]] = {}

    def _keys(self, channel: str) -> tuple[str, str, str]:
        base = f"{self._prefix}:{{{channel}}}"  # one hash slot per channel, for Redis Cluster
        return f"{base}:meta", f"{base}:history", f"{base}:live"

    def _idempotency_key(self, channel: str, key: str) -> str:
        return f"{self._prefix}:key:{{{channel}}}:{key}"

    async def start(self) -> None:
        self._pubsub = self._redis.pubsub()
        # A pub/sub connection needs one subscription before it can be listened on.
        await self._subscribe(f"{self._prefix}:__node__:{uuid.uuid4().hex}")
        self._reader = asyncio.create_task(self._read(), name="redis-bus-reader")

    async def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        with contextlib.suppress(ConnectionError, OSError, RedisError):
            if self._pubsub is not None:
                await self._pubsub.aclose()  # type: ignore[no-untyped-call]
            await self._redis.aclose()
        self._queue.put_nowait(None)

    async def _subscribe(self, name: str) -> None:
        """Subscribe and wait for Redis to confirm, so no publication after this is missed."""
        assert self._pubsub is not None, "start() the bus first"
        confirmed = self._confirmations.setdefault(name, asyncio.get_running_loop().create_future())
        self._live.add(name)
        await self._pubsub.subscribe(name)
        if self._reader is None:  # before start() finishes: read the confirmation here
            while not confirmed.done():
                message = await self._pubsub.get_message(timeout=5.0)
                if message is None:
                    raise ConnectionError("Redis did not confirm the subscription")
                self._handle(message)
        await asyncio.wait_for(confirmed, 10.0)

    async def _read(self) -> None:
        """Deliver messages; when Redis goes away, report a gap and resubscribe once it is back."""
        while True:
            assert self._pubsub is not None
            try:
                async for message in self._pubsub.listen():
                    self._handle(message)
            except (ConnectionError, OSError, RedisError) as exc:
                self._queue.put_nowait(Gap(reason=f"lost Redis: {exc}"))
                await self._reconnect()

    async def _reconnect(self) -> None:
        delay = 0.1
        while True:
            await asyncio.sleep(delay)  # back off between attempts while Redis is away
            delay = min(delay * 2, 5.0)
            with contextlib.suppress(ConnectionError, OSError, RedisError):
                if self._pubsub is not None:
                    await self._pubsub.aclose()  # type: ignore[no-untyped-call]
                self._pubsub = self._redis.pubsub()
                await self._pubsub.subscribe(*self._live)
                return

    def _handle(self, message: dict[str, Any]) -> None:
        name = message["channel"].decode()
        if message["type"] == "subscribe":
            confirmed = self._confirmations.pop(name, None)
            if confirmed is not None and not confirmed.done():
                confirmed.set_result(None)
            return
        if message["type"] != "message":
            return
        offset, epoch, data = message["data"].split(b":", 2)
        self._queue.put_nowait(
            Publication(
                channel=name[len(self._prefix) + 2 : name.rindex("}")],  # "<prefix>:{<channel>}:live"
                epoch=epoch.decode(),
                offset=int(offset),
                data=data,
            )
        )

    async def publish(self, channel: str, data: bytes, *, key: str | None = None) -> Publication:
        meta, history, live = self._keys(channel)
        idempotency = self._idempotency_key(channel, key) if key is not None else ""
        offset, epoch, _ = await self._script(
            keys=[meta, history, idempotency],
            args=[data, self._history_size, self._history_seconds, uuid.uuid4().hex[:12], live,
                  self._key_seconds],
        )  # fmt: skip
        return Publication(channel=channel, epoch=epoch.decode(), offset=int(offset), data=data)

    async def broadcast(self, channel: str, data: bytes) -> None:
        await self._redis.publish(self._keys(channel)[2], b"0::" + data)

    async def subscribe(self, channel: str) -> None:
        await self._subscribe(self._keys(channel)[2])

    async def unsubscribe(self, channel: str) -> None:
        assert self._pubsub is not None, "start() the bus first"
        self._live.discard(self._keys(channel)[2])
        await self._pubsub.unsubscribe(self._keys(channel)[2])

    async def publications(self) -> AsyncIterator[Publication | Gap]:
        while (publication := await self._queue.get()) is not None:
            yield publication

    async def position(self, channel: str) -> Position:
        meta = self._keys(channel)[0]
        await self._redis.hsetnx(meta, "epoch", uuid.uuid4().hex[:12])
        await self._redis.expire(meta, self._history_seconds, nx=True)
        epoch, offset = await self._redis.hmget(meta, ["epoch", "offset"])
        assert isinstance(epoch, bytes)
        return Position(epoch=epoch.decode(), offset=int(offset or 0))

    async def recover(self, channel: str, since: Position) -> list[Publication]:
        meta, history, _ = self._keys(channel)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hmget(meta, ["epoch", "offset", "trimmed"])
            pipe.xrange(history, min=f"{since.offset + 1}-0")
            (epoch, top, trimmed), entries = await pipe.execute()
        if epoch is None or epoch.decode() != since.epoch:
            raise RecoveryFailed(f"channel {channel} is in another epoch")
        if since.offset > int(top or 0) or since.offset < int(trimmed or 0):
            raise RecoveryFailed(f"channel {channel}: missed publications left the history")
        return [
            Publication(channel=channel, epoch=since.epoch, offset=int(entry_id.split(b"-")[0]), data=f[b"d"])
            for entry_id, f in entries
        ]

    async def redact(self, channel: str, keys: Sequence[str]) -> None:
        if not keys:
            return
        meta, history, _ = self._keys(channel)
        idempotency = [self._idempotency_key(channel, key) for key in keys]
        await self._redact(keys=[meta, history, *idempotency], args=[self._key_seconds])

"""The Redis bus: many processes share channels, offsets and history through one Redis.

A publication is appended to the channel's stream and published on its pub/sub channel by one
Lua script, so offsets are gap-free and history and delivery never disagree. Each node holds one
pub/sub connection and subscribes only to the channels its sockets use. Withdrawing a publication
(``redact``) is a second script; the meta hash's ``trimmed`` tells losses apart from withdrawals.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from importlib import resources
from typing import Any, Literal

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from core.redis_client import redis_client, redis_pool, replicas_to_wait_for
from core.tasks import stop_task
from realtime.bus.base import Bus, BusUnavailable, Gap, Position, Publication, RecoveryFailed

log = logging.getLogger(__name__)

_PUBLISH = resources.files(__package__).joinpath("publish.lua").read_text()
_REDACT = resources.files(__package__).joinpath("redact.lua").read_text()
IDEMPOTENCY_SECONDS = 24 * 3600
CONFIRM_SECONDS = 3.0  # for Redis to confirm a subscription; past it the subscribe is refused
RECONNECT_MAX_SECONDS = 0.5  # the longest wait between attempts to get the pub/sub back
# The pub/sub connection proves it still receives: every HEARTBEAT_SECONDS the node publishes a
# token on its own channel and expects it back within ECHO_SECONDS. Only a heartbeat Redis
# answered counts as missed (a hung Redis holds deliveries back, it does not lose them), and only
# MISSED_ECHOES in a row declare the connection lost, so one stall of this process is not a fault.
HEARTBEAT_SECONDS = 0.5
ECHO_SECONDS = 1.0
MISSED_ECHOES = 2
UNREPLICATED_SECONDS = 5.0  # how long publications skip WAIT once a replica did not confirm one
Heard = Literal["echoed", "not echoed", "nobody listens"]


@contextlib.contextmanager
def _unavailable(what: str) -> Iterator[None]:
    """Redis away or not answering, as the one exception callers handle: ``BusUnavailable``."""
    try:
        yield
    except (ConnectionError, OSError, RedisError, TimeoutError) as exc:
        raise BusUnavailable(f"{what}: {exc!r}") from exc


class RedisBus(Bus):
    def __init__(
        self, url: str, namespace: str, history_size: int = 1000, history_seconds: int = 600
    ) -> None:
        self._redis = redis_client(url)
        # The pub/sub connection never reconnects on its own: a silent reconnect would lose what
        # was published meanwhile without a ``Gap``. ``_read`` reconnects it, and says so.
        self._listener = Redis(
            connection_pool=redis_pool(url, max_connections=4, retries=0, command_seconds=None)
        )
        self._prefix = f"{namespace}:bus"
        self._replicas, self._wait_ms = replicas_to_wait_for(url)
        self._unreplicated_until = 0.0  # publish without WAIT until then (replicas missing)
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
        # Channels Redis confirmed on the current pub/sub connection: delivery from them is certain.
        self._confirmed: set[str] = set()
        self._confirmations: dict[str, asyncio.Future[None]] = {}
        self._ready = asyncio.Event()  # the pub/sub connection is up and every live channel confirmed
        self._node_channel = f"{self._prefix}:__node__:{uuid.uuid4().hex}"
        self._echo: tuple[str, asyncio.Future[None]] | None = None  # the heartbeat awaited back
        self._watchdog: asyncio.Task[None] | None = None

    def _keys(self, channel: str) -> tuple[str, str, str]:
        base = f"{self._prefix}:{{{channel}}}"  # one hash slot per channel, for Redis Cluster
        return f"{base}:meta", f"{base}:history", f"{base}:live"

    def _idempotency_key(self, channel: str, key: str) -> str:
        return f"{self._prefix}:key:{{{channel}}}:{key}"

    async def start(self) -> None:
        # A pub/sub connection needs one subscription before it can be listened on; the node's
        # own channel also carries its heartbeats.
        self._live.add(self._node_channel)
        await self._connect()
        self._reader = asyncio.create_task(self._read(), name="redis-bus-reader")
        self._watchdog = asyncio.create_task(self._watch(), name="redis-bus-watchdog")

    async def stop(self) -> None:
        for task in (self._watchdog, self._reader):
            if task is not None:
                await stop_task(task)
        with contextlib.suppress(ConnectionError, OSError, RedisError):
            if self._pubsub is not None:
                await self._pubsub.aclose()  # type: ignore[no-untyped-call]
        for client in (self._redis, self._listener):
            with contextlib.suppress(ConnectionError, OSError, RedisError):
                await client.aclose()
        self._queue.put_nowait(None)

    async def _connect(self) -> None:
        """A new pub/sub connection with every live channel, confirmed before it counts as ready."""
        if self._pubsub is not None:
            with contextlib.suppress(ConnectionError, OSError, RedisError):
                await self._pubsub.aclose()  # type: ignore[no-untyped-call]
        self._pubsub = self._listener.pubsub()
        wanted = set(self._live)
        async with asyncio.timeout(CONFIRM_SECONDS):
            await self._pubsub.subscribe(*wanted)
            while not wanted <= self._confirmed:
                message = await self._pubsub.get_message(timeout=CONFIRM_SECONDS)
                if message is not None:
                    self._handle(message)
        self._ready.set()

    async def _subscribe(self, name: str) -> None:
        """Subscribe and wait for Redis to confirm, so no publication after this is missed."""
        if name in self._confirmed and self._ready.is_set():
            return
        if not self._ready.is_set() or self._pubsub is None:
            raise BusUnavailable("the bus is reconnecting to Redis")
        loop = asyncio.get_running_loop()
        confirmed = self._confirmations.setdefault(name, loop.create_future())
        self._live.add(name)
        try:
            with _unavailable("subscribing"):
                await self._pubsub.subscribe(name)
                await asyncio.wait_for(asyncio.shield(confirmed), CONFIRM_SECONDS)
        except BusUnavailable:
            self._live.discard(name)
            raise

    async def _read(self, lost: str | None = None) -> None:
        """Deliver messages; when Redis goes away, report a gap and resubscribe once it is back.

        ``lost``: the current connection is already known to be lost (the watchdog's verdict)."""
        if lost is not None:
            await self._start_over(lost)
        while True:
            assert self._pubsub is not None
            try:
                async for message in self._pubsub.listen():
                    self._handle(message)
            except (ConnectionError, OSError, RedisError) as exc:
                await self._start_over(f"lost Redis: {exc}")

    async def _start_over(self, reason: str) -> None:
        # Nothing is certain any more: no subscribe succeeds until every channel is confirmed
        # again on a new connection, and every subscriber must recover.
        self._ready.clear()
        self._confirmed.clear()
        self._queue.put_nowait(Gap(reason=reason))
        log.warning("the bus lost its pub/sub connection (%s); reconnecting", reason)
        await self._reconnect()
        log.warning("the bus has Redis again")

    async def _watch(self) -> None:
        """Declare the pub/sub connection lost when Redis answers but the connection no longer
        receives (a half-open or black-holed socket, a subscription Redis dropped): nothing else
        would notice, and its subscribers would wait for ever without a word."""
        missed = 0
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            if not self._ready.is_set():
                missed = 0  # the reader is already starting over
                continue
            heard = await self._heartbeat()
            if heard is None or heard == "echoed":
                missed = 0  # None: Redis did not answer, so no verdict on the connection
                continue
            missed += 1
            if (heard == "nobody listens" or missed >= MISSED_ECHOES) and self._ready.is_set():
                missed = 0
                await self._restart_reader(f"the pub/sub connection stopped receiving ({heard})")

    async def _heartbeat(self) -> Heard | None:
        """Publish a token on the node's channel: ``echoed`` if it came back within ECHO_SECONDS,
        ``not echoed`` if Redis took it but it did not, ``nobody listens`` if Redis knows no
        subscriber of it (the subscription is gone), None if Redis did not answer."""
        token = uuid.uuid4().hex
        echo: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._echo = (token, echo)
        try:
            receivers = await self._redis.publish(self._node_channel, b"0:heartbeat:" + token.encode())
        except (ConnectionError, OSError, RedisError, TimeoutError):
            return None
        if not receivers:
            return "nobody listens"
        try:
            async with asyncio.timeout(ECHO_SECONDS):  # not wait_for: it can swallow a cancel on 3.11
                await echo
        except TimeoutError:
            return "not echoed"
        return "echoed"

    async def _restart_reader(self, reason: str) -> None:
        if self._reader is not None:
            await stop_task(self._reader)
        self._reader = asyncio.create_task(self._read(lost=reason), name="redis-bus-reader")

    async def _reconnect(self) -> None:
        delay = 0.05
        while True:
            await asyncio.sleep(delay)  # back off between attempts while Redis is away
            delay = min(delay * 2, RECONNECT_MAX_SECONDS)
            with contextlib.suppress(ConnectionError, OSError, RedisError, TimeoutError):
                await self._connect()
                return

    def _handle(self, message: dict[str, Any]) -> None:
        name = message["channel"].decode()
        if message["type"] == "subscribe":
            self._confirmed.add(name)
            confirmed = self._confirmations.pop(name, None)
            if confirmed is not None and not confirmed.done():
                confirmed.set_result(None)
            return
        if message["type"] == "unsubscribe":  # in order with the confirmations: last word wins
            self._confirmed.discard(name)
            return
        if message["type"] != "message":
            return
        if name == self._node_channel:
            echo = self._echo
            if echo is not None and message["data"].endswith(echo[0].encode()) and not echo[1].done():
                echo[1].set_result(None)
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

    def _publish_call(self, channel: str, items: Sequence[tuple[bytes, str | None]]) -> dict[str, Any]:
        """The arguments of publish.lua for ``items`` on ``channel`` (one hash slot)."""
        meta, history, live = self._keys(channel)
        keys = [self._idempotency_key(channel, key) if key is not None else "" for _, key in items]
        return {
            "keys": [meta, history, *keys],
            "args": [self._history_size, self._history_seconds, uuid.uuid4().hex[:12], live,
                     self._key_seconds, *(data for data, _ in items)],
        }  # fmt: skip

    @staticmethod
    def _publications(
        channel: str, items: Sequence[tuple[bytes, str | None]], reply: list[Any]
    ) -> list[Publication]:
        return [
            Publication(channel=channel, epoch=reply[3 * n + 1].decode(), offset=int(reply[3 * n]), data=data)
            for n, (data, _) in enumerate(items)
        ]

    async def publish(self, channel: str, data: bytes, *, key: str | None = None) -> Publication:
        result = (await self.publish_many({channel: [(data, key)]}))[channel]
        if isinstance(result, Exception):
            raise result
        return result[0]

    async def publish_many(
        self, batches: Mapping[str, Sequence[tuple[bytes, str | None]]]
    ) -> dict[str, list[Publication] | Exception]:
        """One script call per channel, all in one pipelined round trip (not a transaction: each
        channel's call is atomic on its own, and channels may live on different cluster nodes)."""
        batches = {channel: items for channel, items in batches.items() if items}
        if not batches:
            return {}
        # With replicas to wait for (Sentinel), WAIT ends the batch: it counts the writes of its own
        # connection, and the outbox marks rows published only once it answered.
        waiting = bool(self._replicas) and time.monotonic() >= self._unreplicated_until
        async with self._redis.pipeline(transaction=False) as pipe:
            for channel, items in batches.items():
                await self._script(**self._publish_call(channel, items), client=pipe)
            if waiting:
                pipe.execute_command("WAIT", self._replicas, self._wait_ms)
            replies = await pipe.execute(raise_on_error=False)
        if waiting:
            acknowledged = replies.pop()
            if isinstance(acknowledged, Exception) or acknowledged < self._replicas:
                # No replica to wait for (a promoted primary alone): publish without waiting for
                # a while rather than stall every publication, then try again.
                self._unreplicated_until = time.monotonic() + UNREPLICATED_SECONDS
                log.warning(
                    "a batch of publications reached %s of %d replicas; not waiting for replicas for %.0f s",
                    acknowledged, self._replicas, UNREPLICATED_SECONDS,
                )  # fmt: skip
        results: dict[str, list[Publication] | Exception] = {}
        for (channel, items), reply in zip(batches.items(), replies, strict=True):
            results[channel] = (
                reply if isinstance(reply, Exception) else self._publications(channel, items, reply)
            )
        return results

    async def broadcast(self, channel: str, data: bytes) -> None:
        await self._redis.publish(self._keys(channel)[2], b"0::" + data)

    async def subscribe(self, channel: str) -> None:
        await self._subscribe(self._keys(channel)[2])

    async def unsubscribe(self, channel: str) -> None:
        assert self._pubsub is not None, "start() the bus first"
        name = self._keys(channel)[2]
        self._live.discard(name)
        self._confirmed.discard(name)
        # Without Redis there is nothing to leave: the next pub/sub connection will not have it.
        with contextlib.suppress(ConnectionError, OSError, RedisError, TimeoutError):
            await self._pubsub.unsubscribe(name)

    async def publications(self) -> AsyncIterator[Publication | Gap]:
        while (publication := await self._queue.get()) is not None:
            yield publication

    async def position(self, channel: str) -> Position:
        meta = self._keys(channel)[0]
        with _unavailable("reading a position"):
            await self._redis.hsetnx(meta, "epoch", uuid.uuid4().hex[:12])
            await self._redis.expire(meta, self._history_seconds, nx=True)
            epoch, offset = await self._redis.hmget(meta, ["epoch", "offset"])
        assert isinstance(epoch, bytes)
        return Position(epoch=epoch.decode(), offset=int(offset or 0))

    async def recover(self, channel: str, since: Position) -> list[Publication]:
        meta, history, _ = self._keys(channel)
        with _unavailable("recovering"):
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

"""The Redis bus: many processes share channels, offsets and history through Redis.

A publication is appended to the channel's stream and published on its pub/sub channel by one
Lua script, so offsets are gap-free and history and delivery never disagree. Each node holds one
pub/sub connection and subscribes only to the channels its sockets use. Withdrawing a publication
(``redact``) is a second script; the meta hash's ``trimmed`` tells losses apart from withdrawals.

On a Redis Cluster every key of a channel and its pub/sub channel carry the channel as hash tag
(``<ns>:bus:{<channel>}:...``), so they live in one slot and the scripts run on the shard that owns
it. Pub/sub is sharded there (SPUBLISH/SSUBSCRIBE): a publication reaches only the shard of its
channel rather than every node of the cluster, and the node holds one pub/sub connection per
primary (a ``_Shard``), each with a heartbeat channel of its own on that primary. Losing any of
them is treated like losing the one connection of a single Redis: a ``Gap``, then every shard is
reconnected on a fresh slot map.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from importlib import resources
from typing import Any, Literal

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import NoScriptError, RedisClusterException, RedisError

from core.redis_client import (
    cluster_node_url,
    is_cluster,
    redis_client,
    redis_pool,
    replicas_to_wait_for,
)
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
# From the worst to the best: the verdict of a node's heartbeats is its worst shard's.
_VERDICTS: tuple[Heard | None, ...] = ("nobody listens", "not echoed", None)
# Redis away, not answering, or a cluster without a node for a slot (failing over).
_LOST = (ConnectionError, OSError, RedisError, RedisClusterException, TimeoutError)
# Sharded pub/sub speaks of its own kinds of message: they mean the same here.
_KINDS = {"smessage": "message", "ssubscribe": "subscribe", "sunsubscribe": "unsubscribe"}


@contextlib.contextmanager
def _unavailable(what: str) -> Iterator[None]:
    """Redis away or not answering, as the one exception callers handle: ``BusUnavailable``."""
    try:
        yield
    except _LOST as exc:
        raise BusUnavailable(f"{what}: {exc!r}") from exc


class _Shard:
    """One pub/sub connection (to the one Redis, or to one primary of a cluster) and the channel
    this node's heartbeats travel on through it."""

    def __init__(self, client: Redis, heartbeat: str, *, owns_client: bool) -> None:
        self.client = client
        self.pubsub: PubSub = client.pubsub()
        self.heartbeat = heartbeat
        self._owns_client = owns_client

    async def close(self) -> None:
        with contextlib.suppress(*_LOST):
            await self.pubsub.aclose()  # type: ignore[no-untyped-call]
        if self._owns_client:
            with contextlib.suppress(*_LOST):
                await self.client.aclose()


class RedisBus(Bus):
    def __init__(
        self, url: str, namespace: str, history_size: int = 1000, history_seconds: int = 600
    ) -> None:
        self._url = url
        self._redis = redis_client(url)
        self._cluster = self._redis if isinstance(self._redis, RedisCluster) else None
        # The pub/sub connection never reconnects on its own: a silent reconnect would lose what
        # was published meanwhile without a ``Gap``. ``_read`` reconnects it, and says so. On a
        # cluster each shard gets such a connection of its own (``_open_shards``).
        self._listener = (
            None
            if self._cluster is not None
            else Redis(connection_pool=redis_pool(url, max_connections=4, retries=0, command_seconds=None))
        )
        self._publish_command = "SPUBLISH" if is_cluster(url) else "PUBLISH"
        self._prefix = f"{namespace}:bus"
        self._replicas, self._wait_ms = replicas_to_wait_for(url)
        self._unreplicated_until = 0.0  # publish without WAIT until then (replicas missing)
        self._history_size = history_size
        self._history_seconds = history_seconds
        self._script = self._redis.register_script(_PUBLISH)
        self._redact = self._redis.register_script(_REDACT)
        # A key must outlive the history it points into, or a redaction could miss its entry.
        self._key_seconds = max(IDEMPOTENCY_SECONDS, history_seconds)
        self._shards: dict[str, _Shard] = {}  # by cluster node name; "" for the one Redis
        self._heartbeats: set[str] = set()  # the shards' heartbeat channels
        self._mapped = False  # the cluster client has read the slot map once
        self._reader: asyncio.Task[None] | None = None
        self._queue: asyncio.Queue[Publication | Gap | None] = asyncio.Queue()
        self._live: set[str] = set()  # pub/sub channels to restore after a reconnect
        # Channels Redis confirmed on the current pub/sub connection: delivery from them is certain.
        self._confirmed: set[str] = set()
        self._confirmations: dict[str, asyncio.Future[None]] = {}
        # Unsubscribes sent and not yet confirmed: on a cluster any other unsubscribe is Redis
        # dropping a channel whose slot moved to another shard (resharding).
        self._leaving: Counter[str] = Counter()
        self._ready = asyncio.Event()  # the pub/sub connection is up and every live channel confirmed
        self._node_channel = f"{self._prefix}:__node__:{uuid.uuid4().hex}"
        self._echoes: dict[str, asyncio.Future[None]] = {}  # heartbeat tokens awaited back
        self._watchdog: asyncio.Task[None] | None = None

    def _keys(self, channel: str) -> tuple[str, str, str]:
        base = f"{self._prefix}:{{{channel}}}"  # one hash slot per channel, for Redis Cluster
        return f"{base}:meta", f"{base}:history", f"{base}:live"

    def _idempotency_key(self, channel: str, key: str) -> str:
        return f"{self._prefix}:key:{{{channel}}}:{key}"

    async def start(self) -> None:
        await self._connect()
        self._reader = asyncio.create_task(self._read(), name="redis-bus-reader")
        self._watchdog = asyncio.create_task(self._watch(), name="redis-bus-watchdog")

    async def stop(self) -> None:
        for task in (self._watchdog, self._reader):
            if task is not None:
                await stop_task(task)
        for shard in self._shards.values():
            await shard.close()
        for client in (self._redis, self._listener):
            if client is not None:
                with contextlib.suppress(*_LOST):
                    await client.aclose()
        self._queue.put_nowait(None)

    async def _open_shards(self) -> dict[str, _Shard]:
        """Pub/sub connections for every shard: one on the one Redis; one per primary on a
        cluster, on the slot map read anew (a reconnect may follow a failover)."""
        if self._cluster is None:
            assert self._listener is not None
            return {"": _Shard(self._listener, self._node_channel, owns_client=False)}
        cluster = self._cluster
        if self._mapped:  # a reconnect: the slot map may have changed (a failover)
            await cluster.nodes_manager.initialize()
        else:
            await cluster.initialize()
            self._mapped = True
        # The primaries that serve slots (a primary just added may have none yet).
        owners = {nodes[0].name: nodes[0] for nodes in cluster.nodes_manager.slots_cache.values() if nodes}
        heartbeats = self._heartbeat_channels(cluster, set(owners))
        shards: dict[str, _Shard] = {}
        for name, node in owners.items():
            pool = redis_pool(
                cluster_node_url(self._url, node.host, int(node.port)),
                max_connections=4, retries=0, command_seconds=None,
            )  # fmt: skip
            shards[name] = _Shard(Redis(connection_pool=pool), heartbeats[name], owns_client=True)
        return shards

    def _heartbeat_channels(self, cluster: RedisCluster, owners: set[str]) -> dict[str, str]:
        """A channel of this bus node on each primary of ``owners``: one whose slot it serves."""
        found: dict[str, str] = {}
        for n in range(1_000_000):  # a primary with one slot of 16 384 takes ~16 384 tries
            name = f"{self._node_channel}:{{{n}}}"
            owner = cluster.get_node_from_key(name)
            if owner is not None and owner.name in owners:
                found.setdefault(owner.name, name)
                if len(found) == len(owners):
                    return found
        raise RedisClusterException(f"no channel found for the primaries {owners - set(found)}")

    def _shard_key(self, name: str) -> str:
        """Which shard's pub/sub connection carries ``name``: "" on one Redis, else the name of
        the primary that serves its slot."""
        if self._cluster is None:
            return ""
        owner = self._cluster.get_node_from_key(name)
        return owner.name if owner is not None else ""

    def _shard_of(self, name: str) -> _Shard | None:
        """The shard whose pub/sub connection carries ``name``; None when the slot map changed
        since the shards were opened (the next reconnect fixes that)."""
        return self._shards.get(self._shard_key(name))

    async def _listen_on(self, shard: _Shard, *names: str) -> None:
        if self._cluster is None:
            await shard.pubsub.subscribe(*names)
        else:
            for name in names:  # one slot per command: SSUBSCRIBE refuses channels across slots
                await shard.pubsub.ssubscribe(name)

    async def _connect(self) -> None:
        """New pub/sub connections with every live channel, confirmed before they count as ready."""
        for shard in self._shards.values():
            await shard.close()
        self._shards = {}
        self._heartbeats = set()
        self._leaving.clear()
        shards = await self._open_shards()
        self._shards = shards
        self._heartbeats = {shard.heartbeat for shard in shards.values()}
        grouped: dict[str, set[str]] = {key: {shard.heartbeat} for key, shard in shards.items()}
        for name in self._live:
            key = self._shard_key(name)
            if key not in grouped:
                raise RedisClusterException(f"no primary serves the slot of {name}")
            grouped[key].add(name)
        async with asyncio.timeout(CONFIRM_SECONDS):
            for key, shard in shards.items():
                await self._listen_on(shard, *grouped[key])
            for key, shard in shards.items():
                while not grouped[key] <= self._confirmed:
                    message = await shard.pubsub.get_message(timeout=CONFIRM_SECONDS)
                    if message is not None:
                        self._handle(message)
        self._ready.set()

    async def _subscribe(self, name: str) -> None:
        """Subscribe and wait for Redis to confirm, so no publication after this is missed."""
        if name in self._confirmed and self._ready.is_set():
            return
        if not self._ready.is_set() or not self._shards:
            raise BusUnavailable("the bus is reconnecting to Redis")
        loop = asyncio.get_running_loop()
        confirmed = self._confirmations.setdefault(name, loop.create_future())
        self._live.add(name)
        try:
            with _unavailable("subscribing"):
                shard = self._shard_of(name)
                if shard is None:
                    raise RedisClusterException("the cluster's slot map changed; reconnecting")
                await self._listen_on(shard, name)
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
            try:
                await self._listen()
            except _LOST as exc:
                await self._start_over(f"lost Redis: {exc}")

    async def _listen(self) -> None:
        """Deliver from every shard's connection until one of them fails."""
        shards = list(self._shards.values())
        if len(shards) == 1:
            async for message in shards[0].pubsub.listen():
                self._handle(message)
            return
        tasks = [asyncio.create_task(self._listen_to(shard)) for shard in shards]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                task.result()  # the first connection lost ends them all
        finally:
            for task in tasks:
                with contextlib.suppress(*_LOST):
                    await stop_task(task)

    async def _listen_to(self, shard: _Shard) -> None:
        async for message in shard.pubsub.listen():
            self._handle(message)

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
        """One heartbeat through every shard's connection; the worst verdict counts."""
        heard = await asyncio.gather(*(self._beat(shard.heartbeat) for shard in self._shards.values()))
        return next((verdict for verdict in _VERDICTS if verdict in heard), "echoed")

    async def _beat(self, channel: str) -> Heard | None:
        """Publish a token on a heartbeat channel: ``echoed`` if it came back within ECHO_SECONDS,
        ``not echoed`` if Redis took it but it did not, ``nobody listens`` if Redis knows no
        subscriber of it (the subscription is gone), None if Redis did not answer."""
        token = uuid.uuid4().hex
        echo: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._echoes[token] = echo
        try:
            try:
                receivers = await self._send(channel, b"0:heartbeat:" + token.encode())
            except _LOST:
                return None
            if not receivers:
                return "nobody listens"
            try:
                async with asyncio.timeout(ECHO_SECONDS):  # not wait_for: it can swallow a cancel on 3.11
                    await echo
            except TimeoutError:
                return "not echoed"
            return "echoed"
        finally:
            self._echoes.pop(token, None)

    async def _send(self, channel: str, data: bytes) -> int:
        """PUBLISH, or SPUBLISH on a cluster; how many connections Redis delivered it to."""
        if self._cluster is not None:
            return int(await self._cluster.spublish(channel, data))
        return int(await self._redis.publish(channel, data))

    async def _restart_reader(self, reason: str) -> None:
        if self._reader is not None:
            await stop_task(self._reader)
        self._reader = asyncio.create_task(self._read(lost=reason), name="redis-bus-reader")

    async def _reconnect(self) -> None:
        delay = 0.05
        while True:
            await asyncio.sleep(delay)  # back off between attempts while Redis is away
            delay = min(delay * 2, RECONNECT_MAX_SECONDS)
            with contextlib.suppress(*_LOST):
                await self._connect()
                return

    def _handle(self, message: dict[str, Any]) -> None:
        name = message["channel"].decode()
        kind = _KINDS.get(message["type"], message["type"])
        if kind == "subscribe":
            self._confirmed.add(name)
            confirmed = self._confirmations.pop(name, None)
            if confirmed is not None and not confirmed.done():
                confirmed.set_result(None)
            return
        if kind == "unsubscribe":  # in order with the confirmations: last word wins
            self._confirmed.discard(name)
            if self._leaving[name] > 0:
                self._leaving[name] -= 1
            elif self._cluster is not None and (name in self._live or name in self._heartbeats):
                # Not ours: the slot moved to another primary, and its publications with it.
                raise RedisClusterException(f"the cluster moved {name} to another shard")
            return
        if kind != "message":
            return
        if name in self._heartbeats:
            echo = self._echoes.get(message["data"].rpartition(b":")[2].decode())
            if echo is not None and not echo.done():
                echo.set_result(None)
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
        keys = [self._idempotency_key(channel, key) if key is not None else meta for _, key in items]
        return {
            "keys": [meta, history, *keys],
            "args": [self._history_size, self._history_seconds, uuid.uuid4().hex[:12], live,
                     self._key_seconds, self._publish_command, *(data for data, _ in items)],
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
        channel's call is atomic on its own); on a cluster, one pipelined batch per shard."""
        batches = {channel: items for channel, items in batches.items() if items}
        if not batches:
            return {}
        if self._cluster is not None:
            replies: list[Any] = await self._on_shards(batches)
            return self._results(batches, replies)
        # With replicas to wait for (Sentinel), WAIT ends the batch: it counts the writes of its own
        # connection, and the outbox marks rows published only once it answered.
        waiting = bool(self._replicas) and time.monotonic() >= self._unreplicated_until
        async with self._redis.pipeline(transaction=False) as pipe:
            for channel, items in batches.items():
                await self._script(**self._publish_call(channel, items), client=pipe)  # type: ignore[arg-type]
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
        return self._results(batches, replies)

    async def _on_shards(self, batches: Mapping[str, Sequence[tuple[bytes, str | None]]]) -> list[Any]:
        """The script calls of a batch on a cluster: pipelined EVALSHAs, which the cluster client
        sends as one batch per shard (each call to its channel's primary). A shard that has not
        seen the script yet (a new primary) refuses the call unrun; that call is then sent alone
        through ``Script``, which loads it. A failed call is its channel's result."""
        calls = [self._publish_call(channel, items) for channel, items in batches.items()]
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for call in calls:
                    keys, args = call["keys"], call["args"]
                    pipe.execute_command("EVALSHA", self._script.sha, len(keys), *keys, *args)
                replies: list[Any] = await pipe.execute(raise_on_error=False)
        except _LOST as exc:
            return [exc] * len(calls)
        for n, reply in enumerate(replies):
            if isinstance(reply, NoScriptError):
                try:
                    replies[n] = await self._script(**calls[n])
                except _LOST as exc:
                    replies[n] = exc
        return replies

    def _results(
        self, batches: Mapping[str, Sequence[tuple[bytes, str | None]]], replies: Sequence[Any]
    ) -> dict[str, list[Publication] | Exception]:
        return {
            channel: reply if isinstance(reply, Exception) else self._publications(channel, items, reply)
            for (channel, items), reply in zip(batches.items(), replies, strict=True)
        }

    async def broadcast(self, channel: str, data: bytes) -> None:
        await self._send(self._keys(channel)[2], b"0::" + data)

    async def subscribe(self, channel: str) -> None:
        await self._subscribe(self._keys(channel)[2])

    async def unsubscribe(self, channel: str) -> None:
        assert self._shards, "start() the bus first"
        name = self._keys(channel)[2]
        self._live.discard(name)
        self._confirmed.discard(name)
        # Without Redis there is nothing to leave: the next pub/sub connection will not have it.
        with contextlib.suppress(*_LOST):
            shard = self._shard_of(name)
            if shard is None:
                return
            self._leaving[name] += 1
            if self._cluster is None:
                await shard.pubsub.unsubscribe(name)
            else:
                await shard.pubsub.sunsubscribe(name)

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

"""Presence shared by every instance: one Redis hash per channel, one heartbeat key per node.

An entry names its node; ``members`` keeps the entries whose node's heartbeat key still exists
and deletes the rest, so a crashed node's entries vanish without anyone renewing each of them.

On a Redis Cluster a channel's hash lives in the slot of its hash tag (``{channel}``) and the
nodes' heartbeat keys spread over every slot: ``members`` reads them with one pipelined GET each
(a cluster pipeline sends one batch per shard) rather than an MGET, which one Redis would answer
but a cluster refuses across slots.
"""

from __future__ import annotations

import msgspec

from core.redis_client import redis_client
from realtime.presence.base import Presence
from realtime.protocol import User

CHANNEL_KEY_SECONDS = 24 * 3600  # a channel's hash outlives its last join by this much


class _Entry(msgspec.Struct):
    node: str
    user: User | None


class RedisPresence(Presence):
    def __init__(self, url: str, namespace: str, ttl_seconds: float) -> None:
        super().__init__(ttl_seconds)
        self._redis = redis_client(url)
        self._prefix = f"{namespace}:presence"

    def _key(self, channel: str) -> str:
        return f"{self._prefix}:{{{channel}}}"

    def _node_key(self, node: str) -> str:
        return f"{self._prefix}:node:{node}"

    async def heartbeat(self) -> None:
        if self.ttl_seconds <= 0:
            await self._redis.delete(self._node_key(self.node))
        else:
            await self._redis.set(self._node_key(self.node), 1, px=int(self.ttl_seconds * 1000))

    async def join(self, channel: str, client: str, user: User | None) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(self._key(channel), client, msgspec.json.encode(_Entry(self.node, user)))
            pipe.expire(self._key(channel), CHANNEL_KEY_SECONDS)
            await pipe.execute()

    async def leave(self, channel: str, client: str) -> None:
        await self._redis.hdel(self._key(channel), client)

    async def members(self, channel: str) -> dict[str, User | None]:
        raw = await self._redis.hgetall(self._key(channel))
        entries = {
            (c.decode() if isinstance(c, bytes) else c): msgspec.json.decode(e, type=_Entry)
            for c, e in raw.items()
        }
        nodes = sorted({entry.node for entry in entries.values()})
        beats = await self._beats(nodes)
        alive = {node for node, beat in zip(nodes, beats, strict=True) if beat}
        stale = [client for client, entry in entries.items() if entry.node not in alive]
        if stale:  # entries of a crashed node: tidy them away
            await self._redis.hdel(self._key(channel), *stale)
        return {client: entry.user for client, entry in entries.items() if entry.node in alive}

    async def _beats(self, nodes: list[str]) -> list[bytes | None]:
        """Each node's heartbeat key (None where it expired), in one round trip per shard."""
        if not nodes:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for node in nodes:
                pipe.get(self._node_key(node))
            beats: list[bytes | None] = await pipe.execute()
        return beats

    async def close(self) -> None:
        await self._redis.aclose()

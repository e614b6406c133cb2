"""Presence shared by every instance: one Redis hash per channel, entries with an expiry inside."""

from __future__ import annotations

import time

import msgspec
from redis.asyncio import Redis

from realtime.presence.base import Presence
from realtime.protocol import User


class _Entry(msgspec.Struct):
    expires: float
    user: User | None


class RedisPresence(Presence):
    def __init__(self, url: str, namespace: str, ttl_seconds: float) -> None:
        super().__init__(ttl_seconds)
        self._redis = Redis.from_url(url)
        self._prefix = f"{namespace}:presence"

    def _key(self, channel: str) -> str:
        return f"{self._prefix}:{{{channel}}}"

    async def join(self, channel: str, client: str, user: User | None) -> None:
        entry = _Entry(expires=time.time() + self.ttl_seconds, user=user)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(self._key(channel), client, msgspec.json.encode(entry))
            pipe.expire(self._key(channel), int(self.ttl_seconds * 2) + 1)
            await pipe.execute()

    async def leave(self, channel: str, client: str) -> None:
        await self._redis.hdel(self._key(channel), client)

    async def members(self, channel: str) -> dict[str, User | None]:
        now = time.time()
        live: dict[str, User | None] = {}
        stale: list[bytes | str] = []
        for client, raw in (await self._redis.hgetall(self._key(channel))).items():
            entry = msgspec.json.decode(raw, type=_Entry)
            if entry.expires > now:
                live[client.decode() if isinstance(client, bytes) else client] = entry.user
            else:
                stale.append(client)
        if stale:  # entries of a crashed instance: tidy them away
            await self._redis.hdel(self._key(channel), *stale)
        return live

    async def close(self) -> None:
        await self._redis.aclose()

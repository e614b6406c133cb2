"""Change stamps: how every instance learns at once that a video's row changed.

Caches of a video's visibility (the media server's, the gateway's channel check) must not outlive
a change made on another instance: a video made private must stop being served without a signed
URL on every instance by the time the change is answered. So each change bumps a counter per
video in Redis after it commits (``bump``) and before the API answers; a cache entry remembers
the counter it was read under, and is used only while the counter still says the same
(``read``: one Redis ``GET``, where the cache saves a database read).

A pushed invalidation over pub/sub would not do: it arrives some time after the answer, and the
very next request on another instance can come first. Reading the counter orders the two.

Redis away: ``read`` answers ``None``, and callers read the database every time (no caching),
for at least ``RETRY_SECONDS`` before Redis is tried again, so a hung Redis does not delay every
request. A ``bump`` that fails is logged; the caches' own time-to-live (2 s for media) bounds how
long an instance that still reaches Redis may then serve the old state (docs/api.md). Without
``redis_url`` (one process) the counters live in this process.
"""

from __future__ import annotations

import logging
import time
import uuid

from redis.exceptions import RedisError

from core.redis_client import RedisClient

log = logging.getLogger("mydrtv.catalog")

KEY_SECONDS = 24 * 3600  # a counter outlives by far every cache entry stamped with it
RETRY_SECONDS = 1.0  # after a failure, how long Redis is not asked again


class ChangeStamps:
    def __init__(self, redis: RedisClient | None = None, namespace: str = "mydrtv") -> None:
        self._redis = redis
        self._prefix = f"{namespace}:catalog:changed:"
        self._local: dict[uuid.UUID, int] = {}  # without Redis: one process, counted here
        self._down_until = float("-inf")

    async def bump(self, video_id: uuid.UUID) -> None:
        """The video's row changed (committed): every instance's cached view of it is stale."""
        self._local[video_id] = self._local.get(video_id, 0) + 1
        if self._redis is None:
            return
        key = self._prefix + str(video_id)
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.expire(key, KEY_SECONDS)
                await pipe.execute()
        except (RedisError, OSError, TimeoutError) as exc:
            self._down_until = time.monotonic() + RETRY_SECONDS
            log.warning("could not announce a change of video %s: %r", video_id, exc)

    async def read(self, video_id: uuid.UUID) -> int | None:
        """The video's change counter now; ``None`` when it cannot be known (cache nothing)."""
        if self._redis is None:
            return self._local.get(video_id, 0)
        if time.monotonic() < self._down_until:
            return None
        try:
            value = await self._redis.get(self._prefix + str(video_id))
        except (RedisError, OSError, TimeoutError) as exc:
            self._down_until = time.monotonic() + RETRY_SECONDS
            log.warning("cannot read catalog changes; caching of visibility is off: %r", exc)
            return None
        return int(value) if value is not None else 0

"""The Redis bus across a restart of its Redis (one of its own): the connections it pooled before
are dead afterwards, and none of them may fail a caller once Redis answers again."""

from __future__ import annotations

import asyncio
import uuid

from realtime.bus.redis import RedisBus
from tests.faults.harness import RedisServer


async def test_connections_pooled_before_a_restart_fail_no_caller_after_it() -> None:
    redis = RedisServer()
    await redis.start()
    bus = RedisBus(redis.url, f"restart-{uuid.uuid4().hex[:6]}")
    try:
        await bus.start()
        channels = [f"video:{n}" for n in range(20)]
        # Twenty at once: as many connections in the pool, all dead after the restart.
        await asyncio.gather(*(bus.position(c) for c in channels))
        await redis.kill()
        await redis.start()
        positions = await asyncio.gather(*(bus.position(c) for c in channels), return_exceptions=True)
        assert [p for p in positions if isinstance(p, BaseException)] == []
    finally:
        await bus.stop()
        await redis.stop()

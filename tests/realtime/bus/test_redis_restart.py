"""The Redis bus across a restart of its Redis (one of its own): the connections it pooled before
are dead afterwards, and none of them may fail a caller once Redis answers again."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from realtime.bus.base import BusUnavailable, Gap, Publication
from realtime.bus.redis import RedisBus
from support.faults.servers import RedisServer


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


async def test_after_a_gap_subscribe_is_refused_until_delivery_is_certain_again() -> None:
    """A position read after ``subscribe`` returns must be one the bus delivers from: while the
    pub/sub connection is away, ``subscribe`` refuses rather than return early."""
    redis = RedisServer()
    await redis.start()
    namespace = f"restart-{uuid.uuid4().hex[:6]}"
    bus, publisher = RedisBus(redis.url, namespace), RedisBus(redis.url, namespace)
    try:
        await bus.start()
        await bus.subscribe("video:1")
        stream = bus.publications()
        await redis.kill()
        assert isinstance(await asyncio.wait_for(anext(stream), 5), Gap)
        with pytest.raises(BusUnavailable):
            await bus.subscribe("video:1")
        await redis.start()
        await publisher.start()
        while True:  # what a client sent off with 4010 does: come back until it is served
            try:
                await bus.subscribe("video:1")
                break
            except BusUnavailable:
                await asyncio.sleep(0.02)
        position = await bus.position("video:1")
        published = await publisher.publish("video:1", b"{}")
        delivered = await asyncio.wait_for(anext(stream), 5)
        assert isinstance(delivered, Publication)
        assert (delivered.epoch, delivered.offset) == (position.epoch, position.offset + 1)
        assert (delivered.epoch, delivered.offset) == (published.epoch, published.offset)
    finally:
        await publisher.stop()
        await bus.stop()
        await redis.stop()

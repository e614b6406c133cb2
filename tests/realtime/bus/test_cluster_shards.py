"""The Redis bus on a cluster of its own, when a shard changes under it: a slot resharded to
another primary, a primary killed. Either is a ``Gap`` (subscribers recover), never silence;
after a resharding the channel is served by its new owner with its history intact."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from redis.crc import key_slot

from realtime.bus.base import Gap, Position, Publication
from realtime.bus.redis import ECHO_SECONDS, HEARTBEAT_SECONDS, MISSED_ECHOES, RedisBus
from support.redis_cluster import RedisClusterServers, redis_cluster
from tests.realtime.bus.listening import subscribed

DETECTION_BOUND = MISSED_ECHOES * (HEARTBEAT_SECONDS + ECHO_SECONDS) + HEARTBEAT_SECONDS


@pytest.fixture
def cluster() -> Iterator[RedisClusterServers]:
    with redis_cluster() as running:
        yield running


async def subscribe_again(bus: RedisBus, channel: str) -> None:
    async with asyncio.timeout(10):
        while True:
            try:
                await bus.subscribe(channel)
                return
            except Exception:
                await asyncio.sleep(0.05)  # the bus is still reconnecting: nothing to await


async def test_a_resharded_channel_is_a_gap_then_served_by_its_new_owner(
    cluster: RedisClusterServers,
) -> None:
    channel = "video:resharded"
    async with subscribed(cluster.url, channel) as (bus, stream, publisher):
        first = await publisher.publish(channel, b"before")
        assert isinstance(await stream.next(5), Publication)
        slot = key_slot(bus._keys(channel)[2].encode())
        old = cluster.owner(slot)
        new = next(port for port in cluster.ports if port != old)
        await asyncio.to_thread(cluster.move_slot, slot, new)
        assert cluster.owner(slot) == new

        gap = await stream.next(DETECTION_BOUND)
        assert isinstance(gap, Gap), gap
        await subscribe_again(bus, channel)
        # The history moved with the slot: same epoch, nothing lost, offsets go on.
        assert await bus.recover(channel, Position(first.epoch, first.offset - 1)) == [first]
        after = await publisher.publish(channel, b"after")
        assert (after.epoch, after.offset) == (first.epoch, first.offset + 1)
        delivered = await stream.next(5)
        assert isinstance(delivered, Publication) and delivered.data == b"after"


async def test_a_killed_primary_is_a_gap_for_its_subscribers(cluster: RedisClusterServers) -> None:
    channel = "video:on-a-dying-shard"
    async with subscribed(cluster.url, channel) as (bus, stream, publisher):
        await publisher.publish(channel, b"before")
        assert isinstance(await stream.next(5), Publication)
        cluster.kill(cluster.owner(key_slot(bus._keys(channel)[2].encode())))
        gap = await stream.next(DETECTION_BOUND)
        assert isinstance(gap, Gap), gap

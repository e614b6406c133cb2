"""The Redis bus when its pub/sub connection silently stops receiving while Redis itself answers
(a half-open or black-holed socket): the bus's heartbeat notices, reports a ``Gap`` and gets a
new connection, instead of leaving its subscribers waiting without a word.

The bus reaches a Redis of its own through a loopback proxy that black-holes the pub/sub
connection; a second bus publishes straight to Redis, so publishing works for everyone else.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from realtime.bus.base import Gap, Position, Publication
from realtime.bus.redis import ECHO_SECONDS, HEARTBEAT_SECONDS, MISSED_ECHOES
from support.faults.proxy import Proxy
from support.faults.servers import RedisServer
from tests.realtime.bus.listening import subscribed

# Heartbeats go out every HEARTBEAT_SECONDS, each waits ECHO_SECONDS; MISSED_ECHOES in a row.
DETECTION_BOUND = MISSED_ECHOES * (HEARTBEAT_SECONDS + ECHO_SECONDS) + HEARTBEAT_SECONDS


@pytest.fixture
async def redis() -> AsyncIterator[RedisServer]:
    server = RedisServer()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def proxy(redis: RedisServer) -> AsyncIterator[Proxy]:
    proxy = Proxy(redis.port)
    await proxy.start()
    yield proxy
    await proxy.stop()


async def test_a_black_holed_subscription_is_declared_lost_and_replaced(
    redis: RedisServer, proxy: Proxy
) -> None:
    async with subscribed(proxy.url, publisher_url=redis.url) as (bus, stream, publisher):
        await publisher.publish("video:1", b"before")
        assert isinstance(await stream.next(5), Publication)

        assert proxy.black_hole("pubsub", new_flows=False) == 1
        cut = time.monotonic()
        lost = await publisher.publish("video:1", b"lost in the black hole")
        gap = await stream.next(DETECTION_BOUND + 2)
        detected = time.monotonic() - cut
        print(f"\nblack-holed pub/sub declared lost after {detected:.2f} s")
        assert isinstance(gap, Gap), gap  # not the lost publication, nor silence
        assert "stopped receiving" in gap.reason
        assert detected < DETECTION_BOUND + 1

        # A new connection (not black-holed) serves again; what was lost is recoverable.
        async with asyncio.timeout(10):
            while True:
                try:
                    await bus.subscribe("video:1")
                    break
                except Exception:
                    await asyncio.sleep(0.05)
        recovered = await bus.recover("video:1", publisher_position(lost))
        assert [p.data for p in recovered] == [b"lost in the black hole"]
        after = await publisher.publish("video:1", b"after")
        delivered = await stream.next(5)
        assert isinstance(delivered, Publication) and delivered.offset == after.offset


def publisher_position(publication: Publication) -> Position:
    return Position(epoch=publication.epoch, offset=publication.offset - 1)


async def test_a_hung_redis_is_not_taken_for_a_lost_connection(redis: RedisServer) -> None:
    """A frozen Redis answers nothing, heartbeats included: deliveries wait, no ``Gap``."""
    async with subscribed(redis.url) as (_, stream, publisher):
        redis.freeze()
        try:
            with pytest.raises(TimeoutError):  # longer than a lost connection takes to notice
                await stream.next(DETECTION_BOUND + 1)
        finally:
            redis.thaw()
        published = await publisher.publish("video:1", b"after the freeze")
        delivered = await stream.next(5)
        assert isinstance(delivered, Publication), delivered
        assert delivered.offset == published.offset

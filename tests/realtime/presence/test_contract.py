"""One suite, both presence backends."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable

import pytest

from realtime.presence.base import Presence
from realtime.presence.memory import MemoryPresence
from realtime.presence.redis import RedisPresence
from realtime.protocol import User
from tests.redis_backends import REDIS_KINDS, redis_url_of

Factory = Callable[[float], Presence]


@pytest.fixture(params=["memory", *REDIS_KINDS])
async def make(request: pytest.FixtureRequest) -> AsyncIterator[Factory]:
    namespace = f"test-{uuid.uuid4().hex[:8]}"
    url = "" if request.param == "memory" else redis_url_of(request.param, request)
    made: list[Presence] = []

    def build(ttl: float) -> Presence:
        presence: Presence = (
            MemoryPresence(ttl) if request.param == "memory" else RedisPresence(url, namespace, ttl)
        )
        made.append(presence)
        return presence

    yield build
    for presence in made:
        await presence.close()


ADA = User(id="u1", handle="ada")


async def test_join_members_leave(make: Factory) -> None:
    presence = make(30)
    await presence.heartbeat()
    channel = f"video:{uuid.uuid4().hex[:8]}"
    await presence.join(channel, "c1", ADA)
    await presence.join(channel, "c2", None)
    assert await presence.members(channel) == {"c1": ADA, "c2": None}
    await presence.leave(channel, "c1")
    assert await presence.members(channel) == {"c2": None}
    await presence.leave(channel, "c2")
    assert await presence.members(channel) == {}


async def test_a_node_whose_heartbeat_lapsed_has_no_members(make: Factory) -> None:
    presence = make(30)
    await presence.heartbeat()
    channel = f"video:{uuid.uuid4().hex[:8]}"
    await presence.join(channel, "c1", ADA)
    assert await presence.members(channel) == {"c1": ADA}
    presence.ttl_seconds = -1  # what a crashed node looks like once its last heartbeat lapsed
    await presence.heartbeat()
    assert await presence.members(channel) == {}


@pytest.mark.parametrize("kind", REDIS_KINDS)
async def test_a_crashed_nodes_entries_vanish_for_the_others(
    request: pytest.FixtureRequest, kind: str
) -> None:
    """Two Redis nodes share a channel; one stops beating; only its entries go, and for good.
    (On a cluster the two heartbeat keys are read across slots, pipelined.)"""
    namespace = f"test-{uuid.uuid4().hex[:8]}"
    url = redis_url_of(kind, request)
    alive = RedisPresence(url, namespace, 30)
    crashed = RedisPresence(url, namespace, 30)
    channel = f"video:{uuid.uuid4().hex[:8]}"
    for node, client in ((alive, "here"), (crashed, "gone")):
        await node.heartbeat()
        await node.join(channel, client, ADA)
    assert await alive.members(channel) == {"here": ADA, "gone": ADA}
    crashed.ttl_seconds = -1
    await crashed.heartbeat()
    assert await alive.members(channel) == {"here": ADA}
    crashed.ttl_seconds = 30
    await crashed.heartbeat()  # the tidy-up deleted its entry: a restart does not bring it back
    assert await alive.members(channel) == {"here": ADA}
    await alive.close()
    await crashed.close()

"""One suite, both presence backends."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable

import pytest

from realtime.presence.base import Presence
from realtime.presence.memory import MemoryPresence
from realtime.presence.redis import RedisPresence
from realtime.protocol import User

Factory = Callable[[float], Presence]


@pytest.fixture(params=["memory", "redis"])
async def make(request: pytest.FixtureRequest, servers: dict[str, str]) -> AsyncIterator[Factory]:
    namespace = f"test-{uuid.uuid4().hex[:8]}"
    made: list[Presence] = []

    def build(ttl: float) -> Presence:
        presence: Presence = (
            MemoryPresence(ttl)
            if request.param == "memory"
            else RedisPresence(servers["redis"], namespace, ttl)
        )
        made.append(presence)
        return presence

    yield build
    for presence in made:
        await presence.close()


ADA = User(id="u1", handle="ada")


async def test_join_members_leave(make: Factory) -> None:
    presence = make(30)
    channel = f"video:{uuid.uuid4().hex[:8]}"
    await presence.join(channel, "c1", ADA)
    await presence.join(channel, "c2", None)
    assert await presence.members(channel) == {"c1": ADA, "c2": None}
    await presence.leave(channel, "c1")
    assert await presence.members(channel) == {"c2": None}
    await presence.leave(channel, "c2")
    assert await presence.members(channel) == {}


async def test_entries_that_were_not_renewed_expire(make: Factory) -> None:
    lapsed = make(-1)  # entries written already expired: what a crashed node leaves behind
    channel = f"video:{uuid.uuid4().hex[:8]}"
    await lapsed.join(channel, "crashed", ADA)
    assert await lapsed.members(channel) == {}
    lapsed.ttl_seconds = 30  # the node renews what is still alive
    await lapsed.join(channel, "renewed", ADA)
    assert await lapsed.members(channel) == {"renewed": ADA}

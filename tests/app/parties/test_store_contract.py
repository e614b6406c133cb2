"""One suite, both party stores: load, compare-and-set, many at once, delete, expiry."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable

import msgspec
import pytest

from app.parties import state
from app.parties.state import Member, Party
from app.parties.store.base import PartyStore
from app.parties.store.memory import MemoryPartyStore
from app.parties.store.redis import RedisPartyStore
from core.redis_client import redis_client
from tests.redis_backends import REDIS_KINDS, redis_url_of

Factory = Callable[[float], PartyStore]


@pytest.fixture(params=["memory", *REDIS_KINDS])
async def make(request: pytest.FixtureRequest) -> AsyncIterator[Factory]:
    namespace = f"test-{uuid.uuid4().hex[:8]}"
    url = "" if request.param == "memory" else redis_url_of(request.param, request)
    made: list[PartyStore] = []

    def build(ttl: float) -> PartyStore:
        store: PartyStore = (
            MemoryPartyStore(ttl) if request.param == "memory" else RedisPartyStore(url, namespace, ttl)
        )
        made.append(store)
        return store

    yield build
    for store in made:
        await store.close()


def new_party() -> Party:
    return state.start(uuid.uuid4().hex, Member("u1", "ada"), "v1", 60.0, now=1000.0)


def next_revision(party: Party, **changes: object) -> Party:
    return msgspec.structs.replace(party, revision=party.revision + 1, **changes)


async def test_create_load_and_compare_and_set(make: Factory) -> None:
    store = make(3600)
    party = msgspec.structs.replace(new_party(), revision=1)
    assert await store.load(party.id) is None
    assert await store.save(party, 0)
    assert not await store.save(party, 0)  # it exists now
    assert await store.load(party.id) == party
    changed = next_revision(party, host="u2")
    assert await store.save(changed, 1)
    assert not await store.save(next_revision(party, host="u3"), 1)  # computed from an old revision
    assert await store.load(party.id) == changed


async def test_racing_changes_each_win_once(make: Factory) -> None:
    store = make(3600)
    party = msgspec.structs.replace(new_party(), revision=1)
    await store.save(party, 0)

    async def add(user: str) -> None:
        while True:
            current = await store.load(party.id)
            assert current is not None
            joined = state.join(current, Member(user, user))
            if await store.save(next_revision(joined), current.revision):
                return

    await asyncio.gather(*(add(f"user{n}") for n in range(10)))
    final = await store.load(party.id)
    assert final is not None and final.revision == 11 and len(final.members) == 11


async def test_load_many_and_delete(make: Factory) -> None:
    store = make(3600)
    parties = [msgspec.structs.replace(new_party(), revision=1) for _ in range(3)]
    for party in parties:
        await store.save(party, 0)
    missing = uuid.uuid4().hex
    found = await store.load_many([parties[0].id, missing, parties[2].id])
    assert found == {parties[0].id: parties[0], parties[2].id: parties[2]}
    await store.delete(parties[0].id)
    assert await store.load(parties[0].id) is None
    assert await store.save(parties[0], 0)  # a deleted party's id can be stored again


async def test_a_party_left_alone_past_its_ttl_is_forgotten(make: Factory) -> None:
    store = make(-1)  # expired as soon as stored, as if its ttl had passed
    party = msgspec.structs.replace(new_party(), revision=1)
    await store.save(party, 0)
    assert await store.load(party.id) is None


@pytest.mark.parametrize("kind", REDIS_KINDS)
async def test_redis_keeps_a_party_for_its_ttl(request: pytest.FixtureRequest, kind: str) -> None:
    namespace = f"test-{uuid.uuid4().hex[:8]}"
    url = redis_url_of(kind, request)
    store = RedisPartyStore(url, namespace, 3600)
    party = msgspec.structs.replace(new_party(), revision=1)
    await store.save(party, 0)
    raw = redis_client(url)
    ttl = await raw.pttl(f"{namespace}:party:{{{party.id}}}")
    assert 3_590_000 < ttl <= 3_600_000
    await raw.aclose()
    await store.close()

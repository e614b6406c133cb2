"""One suite, every bus backend: offsets, delivery, idempotency, history and recovery."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from realtime.bus.base import Bus, Position, Publication, RecoveryFailed
from realtime.bus.memory import MemoryBus
from realtime.bus.redis import RedisBus
from tests.redis_backends import REDIS_KINDS, redis_url_of

BusFactory = Callable[..., Bus]


@pytest.fixture(params=["memory", *REDIS_KINDS])
async def make_bus(request: pytest.FixtureRequest) -> AsyncIterator[BusFactory]:
    """Builds started buses of one backend; Redis buses of one test share a namespace."""
    namespace = f"test-{uuid.uuid4().hex[:8]}"
    made: list[Bus] = []
    url = "" if request.param == "memory" else redis_url_of(request.param, request)

    def make(**options: Any) -> Bus:
        if request.param == "memory":
            bus: Bus = MemoryBus(**options)
        else:
            bus = RedisBus(url, namespace, **options)
        made.append(bus)
        return bus

    yield make
    for bus in made:
        await bus.stop()


async def started(bus: Bus) -> Bus:
    await bus.start()
    return bus


async def receive(bus: Bus, count: int) -> list[Publication]:
    stream = bus.publications()
    return [await asyncio.wait_for(anext(stream), 5) for _ in range(count)]


def channel() -> str:
    return f"video:{uuid.uuid4().hex[:8]}"


async def test_offsets_increase_within_one_epoch(make_bus: BusFactory) -> None:
    bus = await started(make_bus())
    name = channel()
    before = await bus.position(name)
    assert before.offset == 0
    first = await bus.publish(name, b'{"n":1}')
    second = await bus.publish(name, b'{"n":2}')
    assert (first.offset, second.offset) == (1, 2)
    assert first.epoch == second.epoch == before.epoch
    assert await bus.position(name) == Position(epoch=before.epoch, offset=2)


async def test_subscribers_receive_their_channels_in_order(make_bus: BusFactory) -> None:
    bus = await started(make_bus())
    wanted, other = channel(), channel()
    await bus.subscribe(wanted)
    await bus.publish(other, b"not for us")
    for n in range(5):
        await bus.publish(wanted, str(n).encode())
    got = await receive(bus, 5)
    assert [p.data for p in got] == [b"0", b"1", b"2", b"3", b"4"]
    assert {p.channel for p in got} == {wanted}
    assert [p.offset for p in got] == [1, 2, 3, 4, 5]

    await bus.unsubscribe(wanted)
    await bus.subscribe(other)
    await bus.publish(wanted, b"after unsubscribe")
    await bus.publish(other, b"marker")
    (next_one,) = await receive(bus, 1)
    assert next_one.data == b"marker"


async def test_a_keyed_publish_happens_once(make_bus: BusFactory) -> None:
    bus = await started(make_bus())
    name = channel()
    await bus.subscribe(name)
    first = await bus.publish(name, b"event", key="outbox-17")
    again = await bus.publish(name, b"event", key="outbox-17")
    assert again.offset == first.offset
    await bus.publish(name, b"marker")
    got = await receive(bus, 2)
    assert [p.data for p in got] == [b"event", b"marker"]
    assert (await bus.position(name)).offset == 2


async def test_recovery_returns_exactly_what_was_missed(make_bus: BusFactory) -> None:
    bus = await started(make_bus())
    name = channel()
    await bus.publish(name, b"seen")
    seen = await bus.position(name)
    for n in range(3):
        await bus.publish(name, f"missed {n}".encode())
    missed = await bus.recover(name, seen)
    assert [p.data for p in missed] == [b"missed 0", b"missed 1", b"missed 2"]
    assert [p.offset for p in missed] == [2, 3, 4]
    assert await bus.recover(name, await bus.position(name)) == []


async def test_recovery_beyond_the_history_fails(make_bus: BusFactory) -> None:
    bus = await started(make_bus(history_size=3))
    name = channel()
    start = await bus.position(name)
    for n in range(5):
        await bus.publish(name, str(n).encode())
    with pytest.raises(RecoveryFailed):
        await bus.recover(name, start)
    # The last three are still there, whole.
    assert [p.data for p in await bus.recover(name, Position(start.epoch, 2))] == [b"2", b"3", b"4"]


@pytest.mark.parametrize("since", [Position("another-epoch", 0), "future"])
async def test_recovery_from_another_epoch_or_the_future_fails(make_bus: BusFactory, since: Any) -> None:
    bus = await started(make_bus())
    name = channel()
    await bus.publish(name, b"x")
    if since == "future":
        since = Position((await bus.position(name)).epoch, 99)
    with pytest.raises(RecoveryFailed):
        await bus.recover(name, since)


@pytest.mark.parametrize("kind", REDIS_KINDS)
async def test_every_redis_node_receives_and_shares_history(
    request: pytest.FixtureRequest, kind: str
) -> None:
    """Two Redis buses stand for two processes; the memory bus serves one process only."""
    namespace = f"test-{uuid.uuid4().hex[:8]}"
    url = redis_url_of(kind, request)
    first = await started(RedisBus(url, namespace))
    second = await started(RedisBus(url, namespace))
    name = channel()
    await first.subscribe(name)
    await second.subscribe(name)
    published = await second.publish(name, b"hello")
    assert await receive(first, 1) == [published]
    assert await receive(second, 1) == [published]
    assert await first.position(name) == await second.position(name)
    await first.stop()
    await second.stop()


async def test_lost_history_starts_a_new_epoch(make_bus: BusFactory) -> None:
    bus = await started(make_bus())
    name = channel()
    await bus.publish(name, b"x")
    old = await bus.position(name)
    if isinstance(bus, RedisBus):
        # What expiry does to an idle channel's keys.
        await bus._redis.delete(*bus._keys(name)[:2])
    else:
        bus._channels.pop(name)  # what a restart of the process does
    new = await bus.publish(name, b"y")
    assert new.epoch != old.epoch
    assert new.offset == 1
    with pytest.raises(RecoveryFailed):
        await bus.recover(name, old)


async def test_a_redacted_publication_leaves_recovery_without_breaking_it(make_bus: BusFactory) -> None:
    bus = await started(make_bus())
    name = channel()
    start = await bus.position(name)
    await bus.publish(name, b"kept 1")
    await bus.publish(name, b"withdrawn", key="outbox-1")
    await bus.publish(name, b"kept 2")
    await bus.redact(name, ["outbox-1"])
    missed = await bus.recover(name, start)
    assert [(p.offset, p.data) for p in missed] == [(1, b"kept 1"), (3, b"kept 2")]
    assert [p.data for p in await bus.recover(name, Position(start.epoch, 1))] == [b"kept 2"]
    assert (await bus.position(name)).offset == 3
    await bus.redact(name, ["outbox-1"])  # twice is the same as once
    assert len(await bus.recover(name, start)) == 2


async def test_a_key_redacted_before_its_publish_is_never_delivered(make_bus: BusFactory) -> None:
    bus = await started(make_bus())
    name = channel()
    await bus.subscribe(name)
    start = await bus.position(name)
    await bus.redact(name, ["outbox-7"])
    await bus.publish(name, b"too late", key="outbox-7")
    await bus.publish(name, b"marker")
    (first,) = await receive(bus, 1)
    assert first.data == b"marker"
    assert [p.data for p in await bus.recover(name, start)] == [b"marker"]


async def test_redaction_reaches_neither_a_new_epoch_nor_the_trimmed_past(make_bus: BusFactory) -> None:
    bus = await started(make_bus(history_size=2))
    name = channel()
    start = await bus.position(name)
    for n in range(1, 5):
        await bus.publish(name, str(n).encode(), key=f"k{n}")
    await bus.redact(name, ["k1", "k4"])  # k1 already left the history by size
    with pytest.raises(RecoveryFailed):
        await bus.recover(name, start)  # 1 and 2 were lost, not withdrawn
    assert [p.data for p in await bus.recover(name, Position(start.epoch, 2))] == [b"3"]

    old = await bus.position(name)
    if isinstance(bus, RedisBus):
        await bus._redis.delete(*bus._keys(name)[:2])
    else:
        bus._channels[name].epoch = "restarted"  # a new epoch that keeps the memory bus's keys
        bus._channels[name].offset = 0
        bus._channels[name].history.clear()
        bus._channels[name].trimmed = 0
    fresh = await bus.publish(name, b"new epoch")
    assert fresh.epoch != old.epoch and fresh.offset == 1
    await bus.redact(name, ["k3"])  # published at offset 3 of the old epoch
    since = Position(fresh.epoch, 0)
    assert [p.data for p in await bus.recover(name, since)] == [b"new epoch"]


async def test_a_batch_publishes_each_channel_in_order_and_each_key_once(make_bus: BusFactory) -> None:
    """``publish_many`` (the outbox relay's batches) is ``publish`` one by one, per channel: the
    same offsets, history and duplicates, a trimmed history included."""
    bus = await started(make_bus(history_size=4))
    first, second = channel(), channel()
    await bus.subscribe(first)
    await bus.subscribe(second)
    earlier = await bus.publish(first, b"earlier", key="outbox-1")
    results = await bus.publish_many(
        {
            first: [(b"earlier", "outbox-1"), (b"a", "outbox-2"), (b"b", None), (b"c", "outbox-4")],
            second: [(b"x", "outbox-3")],
        }
    )
    batch_first, batch_second = results[first], results[second]
    assert isinstance(batch_first, list) and isinstance(batch_second, list)
    assert [p.offset for p in batch_first] == [earlier.offset, 2, 3, 4]  # the duplicate keeps its offset
    assert [p.offset for p in batch_second] == [1]
    again = await bus.publish_many({first: [(b"c", "outbox-4"), (b"d", "outbox-5")]})
    assert [p.offset for p in again[first]] == [4, 5]  # type: ignore[union-attr]
    got = await receive(bus, 6)
    assert [p.data for p in got if p.channel == first] == [b"earlier", b"a", b"b", b"c", b"d"]
    assert [p.offset for p in got if p.channel == first] == [1, 2, 3, 4, 5]
    assert [p.data for p in got if p.channel == second] == [b"x"]
    position = await bus.position(first)
    assert [p.data for p in await bus.recover(first, Position(position.epoch, 1))] == [b"a", b"b", b"c", b"d"]
    with pytest.raises(RecoveryFailed):  # history_size=4: offset 1 left it
        await bus.recover(first, Position(position.epoch, 0))

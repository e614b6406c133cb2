"""The outbox: committed events reach the bus exactly once, rolled-back ones never."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence

import pytest

from app.health.probes import outbox_probe
from core.db import Database
from core.settings import Settings
from realtime.bus.base import Bus, BusUnavailable, Position, Publication
from realtime.bus.redis import RedisBus
from realtime.outbox import Relay, enqueue, withdraw
from tests.services import free_port

LEADER_LOCK = 7_310_453  # the advisory lock the relay leader holds


@pytest.fixture
async def bus(settings: Settings) -> AsyncIterator[RedisBus]:
    redis_bus = RedisBus(settings.redis_url, settings.redis_namespace)
    await redis_bus.start()
    yield redis_bus
    await redis_bus.stop()


class DiesAfter(Bus):
    """The real bus, with the relay's process dying after ``count`` publishes."""

    def __init__(self, real: Bus, count: int) -> None:
        self.real, self.count = real, count

    async def publish(self, channel: str, data: bytes, *, key: str | None = None) -> Publication:
        if self.count == 0:
            raise SystemError("the relay died")
        self.count -= 1
        return await self.real.publish(channel, data, key=key)

    async def broadcast(self, channel: str, data: bytes) -> None: ...
    async def subscribe(self, channel: str) -> None: ...
    async def unsubscribe(self, channel: str) -> None: ...
    def publications(self) -> AsyncIterator[Publication]:
        return self.real.publications()  # type: ignore[return-value]

    async def position(self, channel: str):  # type: ignore[no-untyped-def]
        return await self.real.position(channel)

    async def recover(self, channel, since):  # type: ignore[no-untyped-def]
        return await self.real.recover(channel, since)

    async def redact(self, channel, keys):  # type: ignore[no-untyped-def]
        await self.real.redact(channel, keys)


class Interleaved(DiesAfter):
    """The real bus, with something else happening just before each publish reaches it."""

    def __init__(self, real: Bus, before: Callable[[], Awaitable[None]]) -> None:
        super().__init__(real, count=-1)
        self.before = before

    async def publish(self, channel: str, data: bytes, *, key: str | None = None) -> Publication:
        await self.before()
        return await self.real.publish(channel, data, key=key)


class FailsOn(DiesAfter):
    """The real bus, failing every publish on one channel; counts the relay's round trips."""

    def __init__(self, real: Bus, failing: str) -> None:
        super().__init__(real, count=-1)
        self.failing = failing
        self.batches: list[dict[str, int]] = []

    async def publish_many(
        self, batches: Mapping[str, Sequence[tuple[bytes, str | None]]]
    ) -> dict[str, list[Publication] | Exception]:
        self.batches.append({name: len(items) for name, items in batches.items()})
        results = await self.real.publish_many(
            {c: items for c, items in batches.items() if c != self.failing}
        )
        if self.failing in batches:
            results[self.failing] = BusUnavailable("Redis refused this channel")
        return results


def channel() -> str:
    return f"video:{uuid.uuid4().hex[:10]}"


async def receive(bus: Bus, count: int, within: float = 5) -> list[Publication]:
    stream = bus.publications()
    got = []
    for _ in range(count):
        item = await asyncio.wait_for(anext(stream), within)
        assert isinstance(item, Publication)
        got.append(item)
    return got


async def pending(db: Database) -> int:
    rows = await db.fetch("SELECT count(*) AS n FROM outbox WHERE published_at IS NULL")
    return int(rows[0]["n"])


async def test_committed_events_are_published_and_rolled_back_ones_are_not(
    db: Database, bus: RedisBus
) -> None:
    name = channel()
    await bus.subscribe(name)
    async with db.engine.transaction():
        await enqueue(db, name, b'{"n":1}')
    with pytest.raises(RuntimeError):
        async with db.engine.transaction():
            await enqueue(db, name, b'{"n":"rolled back"}')
            raise RuntimeError("the domain write failed")
    async with db.engine.transaction():
        await enqueue(db, name, b'{"n":2}')

    assert await Relay(db, bus).drain() == 2
    assert [p.data for p in await receive(bus, 2)] == [b'{"n":1}', b'{"n":2}']
    assert await pending(db) == 0
    assert await Relay(db, bus).drain() == 0


async def test_a_relay_dying_between_publish_and_mark_loses_and_duplicates_nothing(
    db: Database, bus: RedisBus
) -> None:
    name = channel()
    await bus.subscribe(name)
    for n in range(3):
        await enqueue(db, name, f'{{"n":{n}}}'.encode())
    with pytest.raises(SystemError):
        await Relay(db, DiesAfter(bus, count=2)).drain()
    assert await pending(db) == 3  # published two, marked none

    assert await Relay(db, bus).drain() == 3
    await bus.publish(name, b"marker")
    got = await receive(bus, 4)
    assert [p.data for p in got] == [b'{"n":0}', b'{"n":1}', b'{"n":2}', b"marker"]
    assert [p.offset for p in got] == [1, 2, 3, 4]


async def test_the_relay_publishes_in_batches_and_a_failing_channel_holds_up_only_itself(
    db: Database, bus: RedisBus
) -> None:
    """Rows read together go out in one round trip, each channel's in order; a channel whose
    publish fails stops the drain with its rows unpublished, while the other channels' rows in
    the batch are published and marked. The next drain publishes the rest in order."""
    await Relay(db, bus).drain()
    good, bad = channel(), channel()
    await bus.subscribe(good)
    await bus.subscribe(bad)
    async with db.engine.transaction():
        for n in range(3):
            await enqueue(db, good, f'{{"good":{n}}}'.encode())
            await enqueue(db, bad, f'{{"bad":{n}}}'.encode())
    failing = FailsOn(bus, bad)
    with pytest.raises(BusUnavailable):
        await Relay(db, failing).drain()
    assert failing.batches == [{good: 3, bad: 3}]  # one round trip for the six rows
    assert await pending(db) == 3
    assert [p.data for p in await receive(bus, 3)] == [b'{"good":0}', b'{"good":1}', b'{"good":2}']

    assert await Relay(db, bus).drain() == 3
    got = await receive(bus, 3)
    assert [p.data for p in got] == [b'{"bad":0}', b'{"bad":1}', b'{"bad":2}']
    assert [p.offset for p in got] == [1, 2, 3]


async def test_the_running_relay_wakes_on_commit(db: Database, bus: RedisBus) -> None:
    name = channel()
    await bus.subscribe(name)
    relay = asyncio.create_task(Relay(db, bus, poll_seconds=60).run())
    try:
        # The relay may take the lead after this commit; either the startup drain or the
        # notification delivers it, well before the 60 s poll.
        async with db.engine.transaction():
            await enqueue(db, name, b'{"hello":true}')
        (got,) = await receive(bus, 1)
        assert got.data == b'{"hello":true}'
    finally:
        relay.cancel()
        with pytest.raises(asyncio.CancelledError):
            await relay


async def test_internal_channels_go_to_their_handler_and_a_failing_one_holds_up_nothing(
    db: Database, bus: RedisBus
) -> None:
    name = channel()
    await bus.subscribe(name)
    handled: list[tuple[bytes, str]] = []
    failures = 1

    async def graph(payload: bytes, key: str) -> None:
        nonlocal failures
        if failures:
            failures -= 1
            raise ConnectionError("the graph is down")
        handled.append((payload, key))

    async def feed(payload: bytes, key: str) -> None:
        handled.append((payload, key))

    await Relay(db, bus).drain()  # what earlier tests left behind
    async with db.engine.transaction():
        await enqueue(db, "@graph", b"g1")
        await enqueue(db, name, b"live")
        await enqueue(db, "@feed", b"f1")
        await enqueue(db, "@nobody", b"skipped")
    relay = Relay(db, bus, handlers={"@graph": graph, "@feed": feed})

    assert await relay.drain() == 3  # the graph failed; the live event and the feed went on
    assert [p.data for p in await receive(bus, 1)] == [b"live"]
    assert [payload for payload, _ in handled] == [b"f1"]
    assert await pending(db) == 1

    assert await relay.drain() == 1  # retried on the next drain
    assert [payload for payload, _ in handled] == [b"f1", b"g1"]
    assert len({key for _, key in handled}) == 2 and all(k.startswith("outbox:") for _, k in handled)
    assert await pending(db) == 0


async def test_the_bus_rows_of_a_read_go_out_in_one_round_trip_before_its_handlers_which_run_at_once(
    db: Database, bus: RedisBus
) -> None:
    """Comments and their ``@feed`` rows alternate in the outbox: the comments must not go out one
    publish per handler call (the relay trailed by seconds on a busy video)."""
    name = channel()
    await bus.subscribe(name)
    await Relay(db, bus).drain()  # what earlier tests left behind
    async with db.engine.transaction():
        for n in range(3):
            await enqueue(db, name, b"comment %d" % n)
            await enqueue(db, "@feed", b"feed %d" % n)
    counting = FailsOn(bus, failing="")
    started: list[bytes] = []
    all_started = asyncio.Event()
    published_when_handled: list[int] = []

    async def feed(payload: bytes, key: str) -> None:
        published_when_handled.append((await bus.position(name)).offset)
        started.append(payload)
        if len(started) == 3:
            all_started.set()
        await asyncio.wait_for(all_started.wait(), 5)  # one at a time, this would never be set

    relay = Relay(db, counting, handlers={"@feed": feed})
    assert await relay.drain() == 6
    assert counting.batches == [{name: 3}]
    assert published_when_handled == [3, 3, 3]
    assert sorted(started) == [b"feed 0", b"feed 1", b"feed 2"]
    assert [p.data for p in await receive(bus, 3)] == [b"comment 0", b"comment 1", b"comment 2"]
    assert await pending(db) == 0


async def test_a_withdrawn_event_is_never_published_and_leaves_history(db: Database, bus: RedisBus) -> None:
    await Relay(db, bus).drain()
    name = channel()
    start = await bus.position(name)
    async with db.engine.transaction():
        published = await enqueue(db, name, b"published, then withdrawn")
        await enqueue(db, name, b"kept")
    await Relay(db, bus).drain()
    async with db.engine.transaction():
        pending_key = await enqueue(db, name, b"withdrawn before the relay saw it")
    async with db.engine.transaction():
        await withdraw(db, [name], [published, pending_key])
    assert await pending(db) == 1  # the redaction, done by the relay once the withdrawal committed
    assert [p.data for p in await bus.recover(name, start)] == [b"published, then withdrawn", b"kept"]
    await Relay(db, bus).drain()
    assert [p.data for p in await bus.recover(name, start)] == [b"kept"]


async def test_a_withdrawal_that_rolls_back_leaves_history_whole(db: Database, bus: RedisBus) -> None:
    await Relay(db, bus).drain()
    name = channel()
    start = await bus.position(name)
    async with db.engine.transaction():
        key = await enqueue(db, name, b"stays")
    await Relay(db, bus).drain()
    with pytest.raises(RuntimeError):
        async with db.engine.transaction():
            await withdraw(db, [name], [key])
            raise RuntimeError("the rest of the change failed")
    assert await pending(db) == 0
    await Relay(db, bus).drain()
    assert [p.data for p in await bus.recover(name, start)] == [b"stays"]


async def test_an_event_withdrawn_while_the_relay_holds_it_leaves_history_before_the_removal(
    db: Database, bus: RedisBus
) -> None:
    """A moderator's removal commits between the relay reading a row and publishing it: the row
    in hand still goes out live, then leaves history before the removal event is published."""
    await Relay(db, bus).drain()
    name = channel()
    await bus.subscribe(name)
    start = await bus.position(name)
    async with db.engine.transaction():
        key = await enqueue(db, name, b"a comment about to be removed")
    withdrawn = False

    async def moderator() -> None:
        nonlocal withdrawn
        if not withdrawn:
            withdrawn = True
            async with db.engine.transaction():
                await withdraw(db, [name], [key])
                await enqueue(db, name, b"removed")

    assert await Relay(db, Interleaved(bus, moderator)).drain() == 3  # event, redaction, removal
    assert [p.data for p in await receive(bus, 2)] == [b"a comment about to be removed", b"removed"]
    assert [p.data for p in await bus.recover(name, Position(start.epoch, 0))] == [b"removed"]


async def relay_backends(db: Database) -> list[tuple[int, bool]]:
    """``(backend pid, granted)`` of the sessions holding or waiting for the relay's lead."""
    rows = await db.fetch(
        "SELECT pid, granted FROM pg_locks WHERE locktype = 'advisory' AND classid = 0 AND objid = {}"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        LEADER_LOCK,
    )
    return [(int(row["pid"]), bool(row["granted"])) for row in rows]


async def until_backends(db: Database, leading: int, waiting: int) -> list[tuple[int, bool]]:
    async with asyncio.timeout(10):
        while True:
            found = await relay_backends(db)
            if sorted(g for _, g in found) == [False] * waiting + [True] * leading:
                return found
            await asyncio.sleep(0.02)


async def test_a_relay_whose_session_is_cut_leads_again_and_hears_notifications(
    db: Database, bus: RedisBus
) -> None:
    """The server ends the leader's session (a restart, a failover of PostgreSQL, an admin):
    the relay takes the lead and its LISTEN again, and delivers at notification speed, not the poll's."""
    await Relay(db, bus).drain()
    name = channel()
    await bus.subscribe(name)
    relays = [asyncio.create_task(Relay(db, bus, poll_seconds=60).run()) for _ in range(2)]
    try:
        found = await until_backends(db, leading=1, waiting=1)
        for pid, _ in found:  # the leader's and the standby's sessions both end
            await db.fetch("SELECT pg_terminate_backend({})", pid)
        await until_backends(db, leading=1, waiting=1)
        assert not any(task.done() for task in relays), "a relay gave up"
        async with db.engine.transaction():
            await enqueue(db, name, b'{"after":"the cut"}')
        (got,) = await receive(bus, 1, within=2)  # far within the 60 s poll
        assert got.data == b'{"after":"the cut"}'
    finally:
        for task in relays:
            task.cancel()
        await asyncio.gather(*relays, return_exceptions=True)


async def test_a_leader_that_stops_talking_loses_the_lead_to_the_standby(db: Database, bus: RedisBus) -> None:
    """A leader frozen in place (here: its heartbeat never sent) is disconnected by the server within
    the lease, and the standby leads; the stale one's lease check fails from its own clock."""
    await Relay(db, bus).drain()
    name = channel()
    await bus.subscribe(name)
    quiet = Relay(db, bus, poll_seconds=60, lease_seconds=0.6, heartbeat_seconds=60)
    first = asyncio.create_task(quiet.run())
    second: asyncio.Task[None] | None = None
    try:
        ((old, _),) = await until_backends(db, leading=1, waiting=0)
        started = time.monotonic()
        second = asyncio.create_task(Relay(db, bus, poll_seconds=60).run())
        async with asyncio.timeout(5):
            while not any(granted and pid != old for pid, granted in await relay_backends(db)):  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        took = time.monotonic() - started
        assert took < 0.6 + 0.5, took  # the lease, and a margin for the standby to take it
        assert not quiet.leading  # its own clock told it, without a word from the server
        async with db.engine.transaction():
            await enqueue(db, name, b'{"to":"the new leader"}')
        (got,) = await receive(bus, 1, within=1)
        assert got.data == b'{"to":"the new leader"}'
        assert not quiet.leading
    finally:
        tasks = [t for t in (first, second) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_a_relay_that_cannot_reach_postgresql_says_so_once_and_keeps_trying(
    bus: RedisBus, caplog: pytest.LogCaptureFixture
) -> None:
    nowhere = Database("main", f"postgresql://postgres@127.0.0.1:{free_port()}/absent")
    relay = Relay(nowhere, bus)
    probe = outbox_probe(nowhere, relay)
    task = asyncio.create_task(relay.run())
    try:
        with caplog.at_level(logging.INFO, logger="mydrtv.outbox"):
            # An observation window: long enough for several retries (the backoff starts at 50 ms).
            await asyncio.sleep(1.0)
        assert not task.done(), "the relay gave up"
        assert relay.trouble is not None and "refused" in relay.trouble.lower()
        warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(warnings) == 1, [r.getMessage() for r in warnings]  # once per episode, not per retry
        with pytest.raises(RuntimeError, match="cannot reach PostgreSQL"):
            await probe()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


class Held(DiesAfter):
    """The real bus, with every publish held at a gate: a leader frozen with rows in hand (the
    relay publishes the rows it read as one batch: all of them are in hand at once)."""

    def __init__(self, real: Bus) -> None:
        super().__init__(real, count=-1)
        self.gate, self.entered, self.returned = asyncio.Event(), asyncio.Event(), asyncio.Event()
        self.keys: list[str | None] = []

    async def publish(self, channel: str, data: bytes, *, key: str | None = None) -> Publication:
        self.keys.append(key)
        self.entered.set()
        await self.gate.wait()
        try:
            return await self.real.publish(channel, data, key=key)
        finally:
            self.returned.set()

    async def publish_many(
        self, batches: Mapping[str, Sequence[tuple[bytes, str | None]]]
    ) -> dict[str, list[Publication] | Exception]:
        self.keys += [key for items in batches.values() for _, key in items]
        self.entered.set()
        await self.gate.wait()
        try:
            return await self.real.publish_many(batches)
        finally:
            self.returned.set()


async def test_a_stale_leader_with_rows_in_hand_neither_duplicates_nor_reorders_and_stops(
    db: Database, bus: RedisBus
) -> None:
    """The leader reads rows and stalls inside a publish past its lease; the standby leads and
    publishes them and more. When the stale one goes on, its batch in hand holds duplicate keys,
    delivering nothing, and its lease check stops it before the next batch."""
    await Relay(db, bus).drain()
    name = channel()
    await bus.subscribe(name)
    async with db.engine.transaction():
        keys = [await enqueue(db, name, f'{{"n":{n}}}'.encode()) for n in range(3)]
    held = Held(bus)
    stale = asyncio.create_task(
        Relay(db, held, poll_seconds=60, lease_seconds=0.6, heartbeat_seconds=60).run()
    )
    fresh: asyncio.Task[None] | None = None
    try:
        await asyncio.wait_for(held.entered.wait(), 5)  # rows 0 to 2 in hand
        fresh = asyncio.create_task(Relay(db, bus, poll_seconds=60).run())
        got = await receive(bus, 3)  # the new leader, once the server ended the stale session
        async with db.engine.transaction():
            await enqueue(db, name, b'{"n":3}')
        got += await receive(bus, 1)

        held.gate.set()  # the stale leader goes on
        await asyncio.wait_for(held.returned.wait(), 5)
        await bus.publish(name, b"marker")
        got += await receive(bus, 1)
        assert [p.data for p in got] == [b'{"n":0}', b'{"n":1}', b'{"n":2}', b'{"n":3}', b"marker"]
        assert [p.offset for p in got] == [1, 2, 3, 4, 5]
        assert held.keys == keys  # nothing after the batch it had in hand
    finally:
        held.gate.set()
        tasks = [t for t in (stale, fresh) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

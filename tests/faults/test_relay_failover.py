"""The outbox relay under faults, on two `mydrtv serve` processes sharing one PostgreSQL (this
module's own, so it may be stopped and killed) and one Redis, with a subscriber per gateway.

Every test counts, per subscriber: what committed (the outbox of the video's channel, in order)
and what was delivered, which must be the same list: nothing lost, duplicated or reordered.
Timings are printed (``pytest -s``) for BENCHMARKS.md.
"""

from __future__ import annotations

import asyncio
import signal
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from core.settings import Settings
from realtime.outbox import HEARTBEAT_SECONDS, LEASE_SECONDS, POLL_SECONDS
from tests.app.video_helpers import roomy
from tests.faults.relay_support import (
    Postgres,
    Stage,
    freeze,
    gateways,
    own_postgres,
    roles,
    thaw,
    until,
)
from tests.processes import ServerProcess
from tests.services import DatabaseFactory
from tests.users import person

# A frozen or partitioned leader's session ends LEASE_SECONDS after its last heartbeat at most;
# the standby, already waiting for the lock, then leads at once. One heartbeat more is the margin.
FAILOVER_BOUND = LEASE_SECONDS + HEARTBEAT_SECONDS
OUTAGE_SECONDS = 3.0


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    # Not pytest's numbered directories, which another pytest run starting may prune (conftest.py).
    with (
        tempfile.TemporaryDirectory(prefix="mydrtv-relay-faults-") as root,
        own_postgres(Path(root)) as server,
    ):
        yield server


@pytest.fixture(scope="module")
async def relay_settings(postgres: Postgres, settings: Settings) -> AsyncIterator[Settings]:
    factory = DatabaseFactory(postgres.url())
    await factory.create_templates()
    yield roomy(
        settings,
        database_url=await factory.create_migrated("main"),
        identity_database_url=await factory.create_migrated("identity"),
        redis_namespace=f"relay-{uuid.uuid4().hex[:8]}",
    )


@pytest.fixture
async def stage(relay_settings: Settings) -> AsyncIterator[Stage]:
    async with gateways(relay_settings) as servers:
        author = await person(relay_settings)
        api = servers[0]
        response = await _video(api, author.headers)
        stage = Stage(servers, author, response, relay_settings.database_url)
        await stage.subscribe()
        try:
            yield stage
        finally:
            await stage.close()


async def _video(server: ServerProcess, headers: dict[str, str]) -> str:
    async with httpx.AsyncClient(base_url=server.http_url, timeout=10) as api:
        response = await api.post("/videos", json={"title": "faults"}, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _leader(stage: Stage, within: float = 10.0) -> ServerProcess:
    """The one gateway that leads the relay (waits until exactly one does)."""
    found: list[ServerProcess] = []

    async def one() -> bool:
        leading, _ = await roles(stage.database_url, stage.servers)
        found[:] = leading
        return len(leading) == 1

    await until(one, within)
    return found[0]


async def _settled(stage: Stage, within: float = 10.0) -> None:
    """Exactly one relay leads and every other waits for the lock."""

    async def settled() -> bool:
        leading, waiting = await roles(stage.database_url, stage.servers)
        alive = [s for s in stage.servers if s.process is not None and s.process.returncode is None]
        return len(leading) == 1 and len(leading) + len(waiting) == len(alive)

    await until(settled, within)


async def _assert_exact(stage: Stage, subscribers: list[ServerProcess], marker_from: ServerProcess) -> None:
    """Post a last comment and read up to it: every subscriber got exactly what committed, in order."""
    marker = await stage.post(marker_from, "marker")
    committed = await stage.in_database()
    assert committed == stage.committed  # every 201 committed, in posting order
    for server in subscribers:
        subscriber = stage.subscribers[server]
        await subscriber.receive_until(marker, within=POLL_SECONDS * 2)
        assert subscriber.received == committed, subscriber.name
        assert subscriber.pending() == 0, f"{subscriber.name} has more after the marker"


async def _latency(stage: Stage, via: ServerProcess, watchers: list[ServerProcess], body: str) -> float:
    """Post one comment; how long until the last watcher has it."""
    start = time.monotonic()
    comment = await stage.post(via, body)
    arrived = [await stage.subscribers[w].receive_until(comment, POLL_SECONDS * 3) for w in watchers]
    return max(arrived) - start


@pytest.mark.parametrize("fault", [signal.SIGQUIT, signal.SIGKILL], ids=["immediate-stop", "kill-9"])
async def test_after_postgres_comes_back_the_relay_leads_again_at_notification_speed(
    stage: Stage, postgres: Postgres, fault: signal.Signals
) -> None:
    everyone = stage.servers
    await _settled(stage)
    for n in range(3):
        await stage.post(everyone[n % 2], f"before {n}")

    postgres.crash(fault)
    down = time.monotonic()
    try:
        await asyncio.sleep(OUTAGE_SECONDS)  # the fault itself lasts this long
    finally:
        postgres.start()
    back = time.monotonic()
    print(f"\npostgres {fault.name}: down {back - down:.2f} s")

    # Exactly one relay leads again, the standby waits: neither gave up.
    await _settled(stage, within=15)
    led_again = time.monotonic() - back
    first = await _latency(stage, everyone[1], everyone, "first after")
    print(
        f"relay led again {led_again:.2f} s after PostgreSQL accepted; first delivery {first * 1000:.1f} ms"
    )

    latencies = [await _latency(stage, everyone[n % 2], everyone, f"after {n}") for n in range(5)]
    print(f"latency after recovery: max {max(latencies) * 1000:.1f} ms")
    # Notification speed, not the poll's (which would average POLL_SECONDS / 2).
    assert max(latencies) < POLL_SECONDS / 10
    await _assert_exact(stage, everyone, everyone[0])


async def test_a_frozen_leader_is_replaced_within_the_lease_and_wakes_harmless(stage: Stage) -> None:
    leader = await _leader(stage)
    await _settled(stage)
    other = next(s for s in stage.servers if s is not leader)
    for n in range(3):
        await stage.post(other, f"before {n}")

    freeze(leader)
    try:
        frozen = time.monotonic()
        # Comments keep committing on the other gateway; its subscriber has them within the bound.
        posted = [await stage.post(other, f"frozen {n}") for n in range(5)]
        arrived = await stage.subscribers[other].receive_until(posted[-1], within=FAILOVER_BOUND * 4)
        first = stage.subscribers[other].arrived[posted[0]]
        print(f"\nleader frozen: first comment delivered {first - frozen:.2f} s after SIGSTOP")
        assert first - frozen < FAILOVER_BOUND
        assert arrived - frozen < FAILOVER_BOUND + 1.0
        leading, _ = await roles(stage.database_url, stage.servers)
        assert leading == [other]
    finally:
        thaw(leader)
    # The old leader wakes, learns it lost the lead, and waits for the lock again.
    rejoined = await until(_waits(stage, leader), within=10)
    print(f"old leader back as a standby {rejoined:.2f} s after SIGCONT")
    await _assert_exact(stage, stage.servers, other)


async def test_a_killed_leader_is_replaced_within_the_bound(stage: Stage) -> None:
    leader = await _leader(stage)
    await _settled(stage)
    other = next(s for s in stage.servers if s is not leader)
    await stage.post(other, "before")

    await leader.stop(signal.SIGKILL)
    killed = time.monotonic()
    comment = await stage.post(other, "after the kill")
    arrived = await stage.subscribers[other].receive_until(comment, within=FAILOVER_BOUND * 4)
    print(f"\nleader killed: next comment delivered {arrived - killed:.3f} s after kill -9")
    assert arrived - killed < FAILOVER_BOUND
    assert (await _leader(stage)) is other
    await _assert_exact(stage, [other], other)


def _waits(stage: Stage, server: ServerProcess):  # type: ignore[no-untyped-def]
    async def waiting() -> bool:
        _, waiters = await roles(stage.database_url, stage.servers)
        return server in waiters

    return waiting

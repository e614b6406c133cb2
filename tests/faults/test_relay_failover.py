"""The outbox relay under faults, on the fault rig (support/faults/rig.py): two `mydrtv serve`
processes sharing one PostgreSQL (this module's own, so it may be stopped and killed) and one
Redis, with a subscriber per gateway.

Every test ends with the rig's report: per subscriber, every committed comment delivered once
and in order (or a reload told), no unexpected REST answer, no forbidden log line. Timings are
printed (``pytest -s``) for BENCHMARKS.md.
"""

from __future__ import annotations

import signal
import time

import pytest

from realtime.outbox import HEARTBEAT_SECONDS, LEASE_SECONDS, POLL_SECONDS
from support.faults.report import Outage, Report
from support.faults.rig import Rig, crash_postgres
from support.faults.servers import resume, roles, suspend, until
from support.processes import ServerProcess
from tests.faults.conftest import StartRig

# A frozen or partitioned leader's session ends LEASE_SECONDS after its last heartbeat at most;
# the standby, already waiting for the lock, then leads at once. One heartbeat more is the margin.
FAILOVER_BOUND = LEASE_SECONDS + HEARTBEAT_SECONDS
OUTAGE_SECONDS = 3.0


def check(report: Report) -> None:
    print("\n" + report.table())
    assert not report.problems, report.table()


async def _post(rig: Rig, via: ServerProcess, body: str) -> int:
    assert rig.writer is not None
    created = await rig.writer.post(rig.gateway_index(via), body)
    assert isinstance(created, int) and not isinstance(created, bool), created
    return created


async def _latency(rig: Rig, via: ServerProcess, body: str) -> float:
    """Post one comment; how long until every subscriber has it."""
    start = time.monotonic()
    comment = await _post(rig, via, body)
    arrived = [await s.has(comment, POLL_SECONDS * 3) for s in rig.subscribers]
    return max(arrived) - start


def _subscriber_of(rig: Rig, gateway: ServerProcess) -> int:
    return rig.gateway_index(gateway) * rig.per_gateway


@pytest.mark.parametrize("fault", [signal.SIGQUIT, signal.SIGKILL], ids=["immediate-stop", "kill-9"])
async def test_after_postgres_comes_back_the_relay_leads_again_at_notification_speed(
    start_rig: StartRig, fault: signal.Signals
) -> None:
    async with start_rig(per_gateway=1) as rig:
        await rig.watch()
        everyone = rig.gateways
        await rig.settled()
        for n in range(3):
            await _post(rig, everyone[n % 2], f"before {n}")

        outage = await crash_postgres(fault, OUTAGE_SECONDS)(rig)
        print(f"\npostgres {fault.name}: down {outage.back - outage.began:.2f} s")

        # Exactly one relay leads again, the standby waits: neither gave up.
        led_again = await rig.settled(within=15)
        first = await _latency(rig, everyone[1], "first after")
        print(f"relay led again {led_again:.2f} s after PostgreSQL accepted; first delivery {first:.3f} s")

        latencies = [await _latency(rig, everyone[n % 2], f"after {n}") for n in range(5)]
        print(f"latency after recovery: max {max(latencies) * 1000:.1f} ms")
        # Notification speed, not the poll's (which would average POLL_SECONDS / 2).
        assert max(latencies) < POLL_SECONDS / 10
        check(await rig.finish(f"PostgreSQL {fault.name}, {OUTAGE_SECONDS:g} s", [outage]))


async def test_a_frozen_leader_is_replaced_within_the_lease_and_wakes_harmless(start_rig: StartRig) -> None:
    async with start_rig(per_gateway=1) as rig:
        await rig.watch()
        leader = await rig.leader()
        await rig.settled()
        other = next(s for s in rig.gateways if s is not leader)
        watching = rig.subscribers[_subscriber_of(rig, other)]
        for n in range(3):
            await _post(rig, other, f"before {n}")

        assert leader.process is not None
        suspend(leader.process.pid)
        try:
            frozen = time.monotonic()
            # Comments keep committing on the other gateway; its subscriber has them within the bound.
            posted = [await _post(rig, other, f"frozen {n}") for n in range(5)]
            arrived = await watching.has(posted[-1], within=FAILOVER_BOUND * 4)
            first = watching.arrived[posted[0]]
            print(f"\nleader frozen: first comment delivered {first - frozen:.2f} s after SIGSTOP")
            assert first - frozen < FAILOVER_BOUND
            assert arrived - frozen < FAILOVER_BOUND + 1.0
            leading, _ = await roles(rig.settings.database_url, rig.gateways)
            assert leading == [other]
        finally:
            resume(leader.process.pid)
        thawed = time.monotonic()

        # The old leader wakes, learns it lost the lead, and waits for the lock again.
        async def waits() -> bool:
            return await rig.waits_to_lead(leader)

        rejoined = await until(waits, within=10)
        print(f"old leader back as a standby {rejoined:.2f} s after SIGCONT")
        await _post(rig, other, "marker")
        check(await rig.finish("relay leader SIGSTOP", [Outage(frozen, frozen, thawed)]))


async def test_a_killed_leader_is_replaced_within_the_bound(start_rig: StartRig) -> None:
    async with start_rig(per_gateway=1) as rig:
        writer = await rig.watch()
        leader = await rig.leader()
        await rig.settled()
        other = next(s for s in rig.gateways if s is not leader)
        await _post(rig, other, "before")

        writer.down.add(rig.gateway_index(leader))
        await leader.stop(signal.SIGKILL)
        killed = time.monotonic()
        comment = await _post(rig, other, "after the kill")
        arrived = await rig.subscribers[_subscriber_of(rig, other)].has(comment, within=FAILOVER_BOUND * 4)
        print(f"\nleader killed: next comment delivered {arrived - killed:.3f} s after kill -9")
        assert arrived - killed < FAILOVER_BOUND
        assert (await rig.leader()) is other

        # Started again, it waits to lead; its subscriber, back, recovers what it missed.
        await leader.start()
        writer.down.clear()
        await rig.settled()
        await _post(rig, leader, "marker")
        check(await rig.finish("relay leader kill -9", [Outage(killed, killed, time.monotonic())]))

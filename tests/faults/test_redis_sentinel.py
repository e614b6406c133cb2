"""Redis behind Sentinel: the primary killed (-9) for good while comments flow to subscribers on
two gateways. The sentinels promote the replica; the gateways find it through the sentinels
without a restart, the outbox publishes again what waited, and every subscriber receives every
committed comment once and in order, or is told to reload: never a silent gap (the report fails
on any). The table printed gives committed against delivered per subscriber.
"""

from __future__ import annotations

from support.faults.report import Report
from support.faults.rig import fail_over
from support.faults.servers import DOWN_AFTER_MS
from tests.faults.conftest import StartRig

# The sentinels call the primary down after DOWN_AFTER_MS, then agree and promote within a few
# seconds; subscribers reconnect with backoff (up to 1 s) once the gateways have the new primary.
PROMOTED_BOUND = DOWN_AFTER_MS / 1000 + 10.0


def check(report: Report) -> None:
    print("\n" + report.table())
    assert not report.problems, report.table()


async def test_gateways_follow_a_sentinel_failover_and_nothing_committed_is_lost(start_rig: StartRig) -> None:
    async with start_rig(sentinel=True) as rig:
        report = await rig.run("Sentinel primary kill -9, replica promoted", fail_over(), after=3.0)
        check(report)
        (outage,) = report.outages
        assert outage.notes["promoted_after"] < PROMOTED_BOUND, report.table()
        # Delivery came back on the promoted replica, through the same gateway processes.
        assert report.all_delivering is not None, report.table()
        assert all(gateway.process and gateway.process.returncode is None for gateway in rig.gateways)

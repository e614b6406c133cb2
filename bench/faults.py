"""Redis faults soaked longer than the test suite can afford, with the same checks.

    python -m bench.faults [--faults kill,freeze,aof] [--rounds 2] [--rate 20] [--outage 5]
                           [--before 10] [--after 20] [--subscribers 3]

Each round of each fault runs ``tests.faults.harness.Rig`` against a fresh Redis: two gateways,
``--subscribers`` per gateway, a writer at ``--rate`` comments/s for ``--before`` seconds, the
fault for ``--outage`` seconds, and ``--after`` seconds more. It prints the table of every run
(committed, delivered, told to reload, silent gaps, statuses during the outage, time to recover)
and writes them all to ``bench/results/faults.json``; it exits 1 if any run broke the invariant.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from bench.harness import write_results
from tests.faults.harness import Outage, RedisServer, Report, Rig, freeze, kill_and_restart, postgres
from tests.services import DatabaseFactory

Inject = Callable[[RedisServer], Awaitable[Outage]]
FAULTS: dict[str, tuple[str, bool, Callable[[float], Inject]]] = {
    "kill": ("Redis kill -9, restarted without persistence", False, kill_and_restart),
    "freeze": ("Redis SIGSTOP, then SIGCONT", False, freeze),
    "aof": ("Redis kill -9, restarted from its AOF", True, kill_and_restart),
}


def as_json(report: Report) -> dict[str, Any]:
    return {
        "fault": report.fault,
        "committed": report.committed,
        "statuses_during_outage": {str(k): v for k, v in report.statuses.items()},
        "first_delivery_seconds": report.first_delivery,
        "every_subscriber_delivering_seconds": report.all_delivering,
        "latency": None if report.latency is None else dataclasses.asdict(report.latency),
        "subscribers": report.rows,
        "problems": report.problems,
    }


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--faults", default="kill,freeze,aof")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--rate", type=float, default=20)
    parser.add_argument("--outage", type=float, default=5)
    parser.add_argument("--before", type=float, default=10)
    parser.add_argument("--after", type=float, default=20)
    parser.add_argument("--subscribers", type=int, default=3, help="per gateway")
    args = parser.parse_args()
    runs: list[dict[str, Any]] = []
    with postgres() as admin_url:
        databases = DatabaseFactory(admin_url)
        await databases.create_templates()
        for name in args.faults.split(","):
            label, aof, fault = FAULTS[name]
            for _ in range(args.rounds):
                async with Rig.running(databases, aof=aof, per_gateway=args.subscribers) as rig:
                    report = await rig.run(
                        f"{label}, {args.outage:g} s",
                        fault(args.outage),
                        rate=args.rate,
                        before=args.before,
                        after=args.after,
                    )
                print(report.table() + "\n", flush=True)
                runs.append(as_json(report))
        await databases.drop_all()
    command = ("python -m bench.faults " + " ".join(sys.argv[1:])).strip()
    path = write_results("faults", command, {"settings": vars(args), "runs": runs})
    print(f"written to {path}", file=sys.stderr)
    return 1 if any(run["problems"] for run in runs) else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

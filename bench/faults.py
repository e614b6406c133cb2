"""Faults soaked longer than the test suite can afford, with the same checks.

    python -m bench.faults [--faults kill,freeze,aof,subscription,relay-cut,pg-stop,pg-kill,
                            leader-freeze,leader-kill] [--rounds 1] [--rate 20] [--outage 5]
                           [--before 10] [--after 20] [--subscribers 3] [--repeats 5] [--between 5]

Each round of each fault runs the fault rig (support/faults/rig.py) against a fresh Redis: two
gateways, ``--subscribers`` per gateway, a writer at ``--rate`` comments/s for ``--before``
seconds, the fault for ``--outage`` seconds, and ``--after`` seconds more. The relay soaks
(``leader-freeze``, ``leader-kill``) freeze or kill whichever gateway leads the relay ``--repeats``
times, ``--between`` seconds of traffic apart. It prints the table of every run (committed,
delivered, told to reload, silent gaps, statuses during the outage, time to recover, latency
p99 before the fault next to the time to get back to it and the p99 after) and writes them all
to ``bench/results/faults.json``; it exits 1 if any run broke the invariant.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.harness import write_results
from support.faults.rig import (
    Fault,
    Rig,
    crash_postgres,
    fail_over,
    freeze,
    freeze_leader,
    kill_and_restart,
    kill_leader,
    partition_relay,
    partition_subscription,
    repeatedly,
)
from support.faults.servers import postgres
from support.services import DatabaseFactory


@dataclass(frozen=True)
class Kind:
    label: str
    fault: Callable[[argparse.Namespace], Fault]
    aof: bool = False
    proxied: bool = False
    sentinel: bool = False
    tolerated: frozenset[int | str] = frozenset({201})


DATABASE_DOWN = frozenset({201, 503})  # writes answer 503 while PostgreSQL is away
FAULTS: dict[str, Kind] = {
    "kill": Kind("Redis kill -9, restarted without persistence", lambda a: kill_and_restart(a.outage)),
    "freeze": Kind("Redis SIGSTOP, then SIGCONT", lambda a: freeze(a.outage)),
    "aof": Kind("Redis kill -9, restarted from its AOF", lambda a: kill_and_restart(a.outage), aof=True),
    "sentinel": Kind(
        "Sentinel primary kill -9 for good, replica promoted", lambda a: fail_over(), sentinel=True
    ),
    "subscription": Kind(
        "a gateway's pub/sub connection black-holed (half-open)",
        lambda a: partition_subscription(a.outage),
        proxied=True,
    ),
    "relay-cut": Kind("the relay leader cut from Redis", lambda a: partition_relay(a.outage), proxied=True),
    "pg-stop": Kind(
        "PostgreSQL immediate stop",
        lambda a: crash_postgres(signal.SIGQUIT, a.outage),
        tolerated=DATABASE_DOWN,
    ),
    "pg-kill": Kind(
        "PostgreSQL postmaster kill -9",
        lambda a: crash_postgres(signal.SIGKILL, a.outage),
        tolerated=DATABASE_DOWN,
    ),
    "leader-freeze": Kind(
        "relay leader SIGSTOP, repeatedly",
        lambda a: repeatedly(freeze_leader(a.outage), a.repeats, a.between),
    ),
    "leader-kill": Kind(
        "relay leader kill -9 (started again after the outage), repeatedly",
        lambda a: repeatedly(kill_leader(a.outage), a.repeats, a.between),
    ),
}


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--faults", default=",".join(FAULTS))
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--rate", type=float, default=20)
    parser.add_argument("--outage", type=float, default=5)
    parser.add_argument("--before", type=float, default=10)
    parser.add_argument("--after", type=float, default=20)
    parser.add_argument("--subscribers", type=int, default=3, help="per gateway")
    parser.add_argument("--repeats", type=int, default=5, help="faults per relay soak")
    parser.add_argument("--between", type=float, default=5, help="seconds between a soak's faults")
    parser.add_argument("--name", default="faults", help="bench/results/<name>.json")
    args = parser.parse_args()
    runs: list[dict[str, Any]] = []
    with postgres() as server:
        databases = DatabaseFactory(server.url())
        await databases.create_templates()
        for name in args.faults.split(","):
            kind = FAULTS[name]
            for _ in range(args.rounds):
                async with Rig.running(
                    server,
                    databases,
                    aof=kind.aof,
                    proxied=kind.proxied,
                    sentinel=kind.sentinel,
                    per_gateway=args.subscribers,
                ) as rig:
                    report = await rig.run(
                        kind.label if kind.sentinel else f"{kind.label}, {args.outage:g} s",
                        kind.fault(args),
                        rate=args.rate,
                        before=args.before,
                        after=args.after,
                        tolerated=kind.tolerated,
                    )
                print(report.table() + "\n", flush=True)
                runs.append({"name": name, **report.as_json()})
        await databases.drop_all()
    command = ("python -m bench.faults " + " ".join(sys.argv[1:])).strip()
    path = write_results(args.name, command, {"settings": vars(args), "runs": runs})
    print(f"written to {path}", file=sys.stderr)
    return 1 if any(run["problems"] for run in runs) else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

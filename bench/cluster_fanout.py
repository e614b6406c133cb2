"""Redis Cluster beside a single Redis, in one run: ``bench.fanout``'s load (1 publisher to N
subscribers through gateway processes) on a 3-primary cluster (sharded pub/sub) and on one Redis,
alternating which goes first each round, then the bus's raw publish rate over many channels
(``publish_many`` batches, the outbox relay's call), which a cluster spreads over its shards.

    python -m bench.cluster_fanout [--subscribers 1000] [--instances 2] [--rounds 3]

One channel lives on one shard, so the fan-out of a single channel is not where a cluster helps;
it must not cost it either. The many-channel phase shows the other side: writes spread over the
primaries. The load average (1 min) is recorded before each side: the machine is shared.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgspec

from bench.fanout import CHANNEL, gateway_side, one_side
from bench.harness import embedded_settings, write_results
from core.settings import Settings
from realtime.bus.redis import RedisBus
from support.redis_cluster import redis_cluster


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


async def publish_rate(settings: Settings, channels: int, batches: int) -> dict[str, Any]:
    """Publications/s of ``batches`` ``publish_many`` calls, each one publication on every one
    of ``channels`` channels (each its own slot on a cluster)."""
    bus = RedisBus(settings.redis_url, f"{settings.redis_namespace}-rate-{uuid.uuid4().hex[:6]}")
    await bus.start()
    try:
        names = [f"video:{uuid.uuid4().hex[:12]}" for _ in range(channels)]
        started = time.perf_counter()
        failed = 0
        for n in range(batches):
            results = await bus.publish_many({name: [(b'{"n":%d}' % n, None)] for name in names})
            failed += sum(isinstance(result, Exception) for result in results.values())
        seconds = time.perf_counter() - started
    finally:
        await bus.stop()
    return {
        "channels": channels,
        "batches": batches,
        "failed": failed,
        "publications_per_second": round(channels * batches / seconds),
    }


async def one_deployment(
    name: str, settings: Settings, args: argparse.Namespace, worker_args: list[str]
) -> dict[str, Any]:
    load = load_average()
    fanout = await one_side(name, gateway_side(settings, args.instances), args, worker_args)
    rate = await publish_rate(settings, args.channels, args.batches)
    print(f"{name} publish_many: {rate}", file=sys.stderr, flush=True)
    return {"load_average_1m": load, "fanout": fanout, "publish_many": rate}


@contextmanager
def cluster_url() -> Iterator[str]:
    with (
        tempfile.TemporaryDirectory(prefix="mydrtv-bench-cluster-") as root,
        redis_cluster(3, Path(root)) as c,
    ):
        yield c.url


def lost(side: dict[str, Any]) -> int:
    fanout = side["fanout"]
    return int(sum(fanout[phase]["expected"] - fanout[phase]["deliveries"] for phase in ("burst", "steady")))


def summarise(rounds: list[dict[str, Any]], args: argparse.Namespace) -> dict[str, Any]:
    def median(kind: str, *path: str) -> float:
        values = []
        for r in rounds:
            value: Any = r[kind]
            for step in path:
                value = value[step]
            values.append(value)
        return float(round(statistics.median(values), 2))

    summary: dict[str, Any] = {"subscribers": args.subscribers, "gateways": args.instances}
    for kind in ("cluster", "single"):
        summary[kind] = {
            "lost": sum(lost(r[kind]) for r in rounds),
            "burst_deliveries_per_second_median": median(kind, "fanout", "burst", "deliveries_per_second"),
            "burst_p99_ms_median": median(kind, "fanout", "burst", "p99_ms"),
            "steady_p99_ms_median": median(kind, "fanout", "steady", "p99_ms"),
            "publish_many_per_second_median": median(kind, "publish_many", "publications_per_second"),
            "publish_many_failed": sum(r[kind]["publish_many"]["failed"] for r in rounds),
            "load_average_1m_median": median(kind, "load_average_1m"),
        }
    return summary


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--instances", type=int, default=2)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--rate", type=float, default=10)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--channels", type=int, default=200)
    parser.add_argument("--batches", type=int, default=50)
    args = parser.parse_args()
    worker_args = ["--mode", "gateway", "--channel", CHANNEL]
    rounds: list[dict[str, Any]] = []
    async with embedded_settings(ws_send_queue=4096) as single:
        with cluster_url() as url:
            on_cluster = msgspec.structs.replace(single, redis_url=url)
            deployments = {"cluster": on_cluster, "single": single}
            for n in range(args.rounds):
                order = ["cluster", "single"] if n % 2 == 0 else ["single", "cluster"]
                results = {
                    kind: await one_deployment(kind, deployments[kind], args, worker_args) for kind in order
                }
                rounds.append({"order": order, **results})
    summary = summarise(rounds, args)
    command = ("python -m bench.cluster_fanout " + " ".join(sys.argv[1:])).strip()
    path = write_results(
        "cluster_fanout", command, {"settings": vars(args), "summary": summary, "rounds": rounds}
    )
    print(msgspec.json.encode(summary).decode())
    print(f"written to {path}", file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main())

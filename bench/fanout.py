"""Fan-out: 1 publisher to N subscribers through the gateway (Redis bus) and, in the same run,
through a bare ``websockets`` broadcast server.

    python -m bench.fanout [--subscribers 1000] [--rounds 3]

Each round runs both servers, one after the other, through two phases:

- burst: the publisher sends ``--burst`` messages as fast as it can; deliveries/s is every
  delivery divided by the time from the first publish to the last receive;
- steady: ``--rate`` messages per second for ``--seconds``; publish-to-receive latency p50/p99.

Subscribers live in ``--processes`` worker processes. The server's CPU time per 1000 deliveries
is read from /proc, so the comparison holds even when the clients are the bottleneck.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

import msgspec
import psutil
import websockets

from bench.fleet import Fleet
from bench.harness import embedded_settings, gateways, latency_summary, run_worker, write_results
from core.settings import Settings
from realtime.bus.redis import RedisBus
from support.services import free_port

CHANNEL = "video:bench"


class Publisher(Protocol):
    pids: list[int]  # the server processes, whose CPU time is counted

    async def publish(self, data: bytes) -> None: ...


class GatewayPublisher:
    def __init__(self, bus: RedisBus, pids: list[int]) -> None:
        self.bus = bus
        self.pids = pids

    async def publish(self, data: bytes) -> None:
        await self.bus.publish(CHANNEL, data)


class BarePublisher:
    def __init__(self, socket: websockets.ClientConnection, pid: int) -> None:
        self.socket = socket
        self.pids = [pid]

    async def publish(self, data: bytes) -> None:
        await self.socket.send(data.decode())


def payload(seq: int) -> bytes:
    return msgspec.json.encode({"seq": seq, "sent": time.time_ns(), "text": "a comment of ordinary length"})


@asynccontextmanager
async def gateway_side(settings: Settings, instances: int = 1) -> AsyncIterator[tuple[Publisher, str]]:
    """Gateway processes on one Redis, a bus publisher, and their URLs joined by commas."""
    async with gateways(settings, instances) as servers:
        bus = RedisBus(settings.redis_url, settings.redis_namespace, settings.bus_history_size)
        await bus.start()
        try:
            pids = [server.process.pid for server in servers if server.process is not None]
            yield GatewayPublisher(bus, pids), ",".join(server.ws_url for server in servers)
        finally:
            await bus.stop()


@asynccontextmanager
async def bare_side(pings: bool = True) -> AsyncIterator[tuple[Publisher, str]]:
    """The bare server and a publisher socket; ``pings=False``: the publisher sends no pings (an
    overloaded baseline would otherwise drop it for a late pong and end the run)."""
    port = free_port()
    process = await run_worker("bare_server", "--port", str(port))
    try:
        assert process.stdout is not None
        await asyncio.wait_for(process.stdout.readline(), 30)
        socket = await websockets.connect(
            f"ws://127.0.0.1:{port}/publish", ping_interval=20 if pings else None
        )
        try:
            yield BarePublisher(socket, process.pid), f"ws://127.0.0.1:{port}/"
        finally:
            await socket.close()
    finally:
        process.terminate()
        await process.wait()


async def run_phases(
    publisher: Publisher, fleet: Fleet, subscribers: int, args: argparse.Namespace
) -> dict[str, Any]:
    servers = [psutil.Process(pid) for pid in publisher.pids]

    def cpu_seconds() -> float:
        return sum(sum(server.cpu_times()[:2]) for server in servers)

    sent = 0
    # Burst.
    await fleet.mark()
    cpu_before = cpu_seconds()
    started = time.time_ns()
    for _ in range(args.burst):
        sent += 1
        await publisher.publish(payload(sent))
    burst = await fleet.collect(sent, 120)
    cpu = cpu_seconds() - cpu_before
    seconds = (burst["last_ns"] - started) / 1e9
    # Steady.
    await fleet.mark()
    interval = 1 / args.rate
    start = time.monotonic()
    for n in range(int(args.rate * args.seconds)):
        await asyncio.sleep(max(0.0, start + n * interval - time.monotonic()))
        sent += 1
        await publisher.publish(payload(sent))
    steady = await fleet.collect(sent, 60)
    return {
        "burst": {
            "messages": args.burst,
            "deliveries": burst["received"],
            "expected": args.burst * subscribers,
            "deliveries_per_second": round(burst["received"] / seconds),
            "server_cpu_ms_per_1000_deliveries": round(1000 * cpu / max(1, burst["received"]) * 1000, 2),
            **latency_summary(burst["latencies_ms"]),
        },
        "steady": {
            "rate_per_second": args.rate,
            "messages": int(args.rate * args.seconds),
            "deliveries": steady["received"],
            "expected": int(args.rate * args.seconds) * subscribers,
            **latency_summary(steady["latencies_ms"]),
        },
    }


async def one_side(name: str, side: Any, args: argparse.Namespace, worker_args: list[str]) -> dict[str, Any]:
    async with side as (publisher, url):
        fleet = Fleet()
        await fleet.start(args.subscribers, args.processes, "--urls", url, *worker_args)
        try:
            result = await run_phases(publisher, fleet, args.subscribers, args)
        finally:
            await fleet.stop()
    print(f"{name}: {result}", file=sys.stderr, flush=True)
    return result


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--rate", type=float, default=10)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    rounds: list[dict[str, Any]] = []
    async with embedded_settings(ws_send_queue=4096) as settings:
        for _ in range(args.rounds):
            gateway = await one_side(
                "gateway", gateway_side(settings), args, ["--mode", "gateway", "--channel", CHANNEL]
            )
            bare = await one_side("bare", bare_side(), args, ["--mode", "bare"])
            rounds.append({"gateway": gateway, "bare": bare})
    ratio = [
        r["gateway"]["burst"]["deliveries_per_second"] / r["bare"]["burst"]["deliveries_per_second"]
        for r in rounds
    ]
    cpu_ratio = [
        r["gateway"]["burst"]["server_cpu_ms_per_1000_deliveries"]
        / r["bare"]["burst"]["server_cpu_ms_per_1000_deliveries"]
        for r in rounds
    ]
    summary = {
        "subscribers": args.subscribers,
        "throughput_ratio_gateway_to_bare_median": round(statistics.median(ratio), 3),
        "server_cpu_ratio_gateway_to_bare_median": round(statistics.median(cpu_ratio), 3),
        "gateway_steady_p99_ms_median": statistics.median(r["gateway"]["steady"]["p99_ms"] for r in rounds),
        "bare_steady_p99_ms_median": statistics.median(r["bare"]["steady"]["p99_ms"] for r in rounds),
        "lost": sum(
            side["burst"]["expected"]
            - side["burst"]["deliveries"]
            + side["steady"]["expected"]
            - side["steady"]["deliveries"]
            for r in rounds
            for side in r.values()
        ),
    }
    command = "python -m bench.fanout " + " ".join(sys.argv[1:])
    path = write_results(
        "fanout", command.strip(), {"settings": vars(args), "summary": summary, "rounds": rounds}
    )
    print(msgspec.json.encode(summary).decode())
    print(f"written to {path}", file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main())

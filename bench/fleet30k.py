"""30 000 signed-in clients behind the load balancer (issue 16): 3 gateway processes behind
HAProxy, every client subscribed to one channel, one publisher: 1 → 30 000 fan-out.

    python -m bench.fleet30k [--clients 30000] [--rates 1,3,10] [--seconds 10] [--burst 20]
                             [--check-timeout 20s]

The cluster is ``support.cluster``'s (3 gateways, the API and a worker on an embedded PostgreSQL
and Redis) with ``--balancers`` HAProxy processes on one port: one HAProxy holds two descriptors
per session and the fd limit is 20 000 per process, so several share the port (SO_REUSEPORT) and
the kernel spreads the clients over them; each sends websockets to the gateway with the fewest.

Clients are ``bench.viewers`` workers (``--client-processes``, at most ~8000 sockets each, each
from a loopback address of its own: one address has some 28 000 ephemeral ports towards one
server port). Each client signs in with a token of its own user (rows written to ``users`` at
once and tokens minted here, as ``bench.subscribers`` does: the gateway checks that the user
exists) and subscribes to the channel. Joins and leaves of a channel stop past
``--announce-max`` subscribers on a gateway (``MYDRTV_PRESENCE_ANNOUNCE_MAX``): unlimited,
30 000 joins would be 450 million frames.

Phases, after all are connected: each rate of ``--rates`` for ``--seconds`` (publish-to-receipt
latency), then a burst of ``--burst`` publications as fast as the publisher goes (deliveries/s:
deliveries ÷ (last receipt - first publish)). Every client's count is checked after each phase:
lost is expected - received. Memory per connection is the growth of the gateways' (and the
balancers') RSS from before the clients connected to after, divided by the clients. The
balancers' readiness checks wait ``--check-timeout`` (``make cluster``: 2 s); every server they
took out is listed in the result (``servers_taken_out``). Writes ``bench/results/<--output>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
import psutil

from bench.fanout import payload
from bench.harness import embedded_settings, write_results
from bench.live_comments import Cpu, paced, quantile
from bench.viewer_workers import Viewers, shares
from core.settings import Settings
from core.tokens import AccessTokens, Principal
from realtime.bus.redis import RedisBus
from realtime.channels import channel_name
from support.cluster import Cluster

CHANNEL = channel_name("video", "fleet30k")  # not a video id: readable by anyone, no catalog read


@dataclass
class Plan:
    clients: int = 30_000
    gateways: int = 3
    balancers: int = 4
    maxconn: int = 9000  # sessions per HAProxy process: two descriptors each, under 20 000
    client_processes: int = 4
    parallel: int = 25  # handshakes in flight per client process
    rates: list[float] = field(default_factory=lambda: [1.0, 3.0, 10.0])
    seconds: float = 10.0
    burst: int = 20
    within: float = 120.0  # how long a phase's deliveries may take to arrive
    announce_max: int = 100
    sustained_p99_ms: float = 1000.0  # a rate is sustained if nothing is lost and p99 is under this
    # HAProxy's readiness-check timeout. Two misses take a gateway out and cut its sessions; a
    # gateway behind on a fan-out answers late, so at make cluster's 2 s a burst beyond what the
    # gateways deliver in 2 s cuts every client. Longer here to measure the fan-out itself.
    check_timeout: str = "20s"


class Crowd(Viewers):
    """``bench.viewers`` workers, each signing its sockets in with tokens from a file."""

    async def start_signed_in(
        self, url: str, tokens: list[str], processes: int, parallel: int, work: Path
    ) -> None:
        """One worker per share of ``tokens``, each connecting from its own loopback address, so
        that no one address runs out of ephemeral ports."""
        first = 0
        for n, share in enumerate(shares(len(tokens), processes)):
            if not share:
                continue
            path = work / f"tokens-{n}.txt"
            await asyncio.to_thread(path.write_text, "\n".join(tokens[first : first + share]) + "\n")
            await self.spawn(
                "--mode", "gateway", "--urls", url, "--count", str(share), "--channels", CHANNEL,
                "--first", str(first), "--parallel", str(parallel), "--tokens", str(path),
                "--source", f"127.0.0.{2 + n}",
            )  # fmt: skip
            first += share
        await self.connected(len(tokens), within=3600)


async def signed_in_users(settings: Settings, count: int) -> list[str]:
    """``count`` users written to the database at once; an access token of each."""
    run = uuid.uuid4().hex[:8]
    users = [Principal(id=uuid.uuid4(), handle=f"f{run}_{n}", role="viewer") for n in range(count)]
    connection = await asyncpg.connect(settings.database_url)
    try:
        await connection.copy_records_to_table(
            "users", records=[(u.id, u.handle, u.role) for u in users], columns=["id", "handle", "role"]
        )
    finally:
        await connection.close()
    issuer = AccessTokens(settings.jwt_secret, settings.jwt_issuer, 3600 * 4)
    return [issuer.issue(user) for user in users]


def rss(pids: list[int]) -> int:
    return sum(int(psutil.Process(pid).memory_info().rss) for pid in pids)


def descriptors(pids: list[int]) -> list[int]:
    return [int(psutil.Process(pid).num_fds()) for pid in pids]


def phase_summary(delivered: dict[str, Any], expected: int, clients: int) -> dict[str, Any]:
    h = delivered["histogram"]
    return {
        "deliveries": delivered["received"],
        "expected": expected,
        "lost": expected - delivered["received"],
        "clients_with_every_message": delivered["complete"],
        "clients": clients,
        "p50_ms": quantile(h, 0.5),
        "p99_ms": quantile(h, 0.99),
        "max_ms": round(max(h, default=0) / 10, 1),
        "sockets_closed": delivered["closed"],
    }


async def fan_out(crowd: Crowd, bus: RedisBus, plan: Plan, pids: list[int]) -> dict[str, Any]:
    """The rate phases, then the burst; every client's count checked after each."""
    phases: dict[str, Any] = {}
    sent = 0
    for rate in plan.rates:
        await crowd.mark()
        cpu = Cpu(pids)
        started = time.time_ns()

        async def publish(n: int, before: int = sent) -> None:
            await bus.publish(CHANNEL, payload(before + n + 1))

        count = await paced(rate, plan.seconds, publish)
        sent += count
        delivered = await crowd.collect(sent, plan.within)
        phase: dict[str, Any] = {"rate_per_second": rate, "publications": count}
        phase.update(phase_summary(delivered, count * plan.clients, plan.clients))
        seconds = max(1e-9, (delivered["last_ns"] - started) / 1e9)  # first publish to last receipt
        phase["deliveries_per_second"] = round(delivered["received"] / seconds)
        phase["gateway_cpu_ms_per_1000_deliveries"] = round(
            1e6 * cpu.since() / max(1, delivered["received"]), 2
        )
        phases[f"rate_{rate:g}"] = phase
        print(f"rate {rate:g}/s: {phase}", file=sys.stderr, flush=True)
    await crowd.mark()
    cpu = Cpu(pids)
    first = time.time_ns()
    for n in range(plan.burst):
        await bus.publish(CHANNEL, payload(sent + n + 1))
    sent += plan.burst
    delivered = await crowd.collect(sent, plan.within)
    burst: dict[str, Any] = {"publications": plan.burst}
    burst.update(phase_summary(delivered, plan.burst * plan.clients, plan.clients))
    seconds = max(1e-9, (delivered["last_ns"] - first) / 1e9)  # first publish to last receipt
    burst["deliveries_per_second"] = round(delivered["received"] / seconds)
    burst["gateway_cpu_ms_per_1000_deliveries"] = round(1e6 * cpu.since() / max(1, delivered["received"]), 2)
    phases["burst"] = burst
    print(f"burst: {burst}", file=sys.stderr, flush=True)
    sustained = [
        p["rate_per_second"]
        for name, p in phases.items()
        if name.startswith("rate_") and p["lost"] == 0 and p["p99_ms"] <= plan.sustained_p99_ms
    ]
    phases["highest_sustained_rate_per_second"] = max(sustained, default=None)
    return phases


async def fleet(settings: Settings, plan: Plan, work: Path) -> dict[str, Any]:
    """The whole measurement on ``settings``' PostgreSQL and Redis; ``work``: a scratch directory."""
    settings = msgspec.structs.replace(
        settings, presence_announce_max=plan.announce_max, ws_send_queue=max(settings.ws_send_queue, 4096)
    )
    result: dict[str, Any] = {"plan": asdict(plan), "load_average_start": list(psutil.getloadavg())}
    made = time.monotonic()
    tokens = await signed_in_users(settings, plan.clients)
    result["users_and_tokens_seconds"] = round(time.monotonic() - made, 2)
    prefix = work / "haproxy"
    running = Cluster.running(
        settings, prefix, plan.gateways, plan.balancers, plan.maxconn, plan.check_timeout
    )
    async with running as cluster:
        gateway_pids = [g.process.pid for g in cluster.gateways if g.process is not None]
        lb_pids = cluster.haproxy_pids
        gateway_rss, lb_rss = rss(gateway_pids), rss(lb_pids)
        gateway_fds, lb_fds = descriptors(gateway_pids), descriptors(lb_pids)
        bus = RedisBus(settings.redis_url, settings.redis_namespace, settings.bus_history_size)
        await bus.start()
        crowd = Crowd()
        try:
            connecting = time.monotonic()
            await crowd.start_signed_in(cluster.ws_url, tokens, plan.client_processes, plan.parallel, work)
            result["connect_seconds"] = round(time.monotonic() - connecting, 1)
            grown = rss(gateway_pids) - gateway_rss
            result["memory"] = {
                "gateway_rss_before_mb": round(gateway_rss / 2**20, 1),
                "gateway_rss_after_mb": round((gateway_rss + grown) / 2**20, 1),
                "gateway_kb_per_connection": round(grown / plan.clients / 1024, 2),
                "haproxy_kb_per_connection": round((rss(lb_pids) - lb_rss) / plan.clients / 1024, 2),
            }
            # Descriptors each process gained: the spread over gateways and over balancers.
            result["sockets_per_gateway"] = [
                a - b for a, b in zip(descriptors(gateway_pids), gateway_fds, strict=True)
            ]
            result["sessions_per_balancer"] = [
                (a - b) // 2 for a, b in zip(descriptors(lb_pids), lb_fds, strict=True)
            ]
            print(f"connected: {result}", file=sys.stderr, flush=True)
            result["phases"] = await fan_out(crowd, bus, plan, gateway_pids)
        finally:
            await crowd.stop()
            await bus.stop()
    result["load_average_end"] = list(psutil.getloadavg())
    result["servers_taken_out"] = servers_taken_out(prefix)
    return result


def servers_taken_out(prefix: Path) -> list[str]:
    """HAProxy's log lines (every balancer's) about the gateways' checks failing and the gateways
    taken out: why the sessions were cut, if they were."""
    return [
        line.strip()
        for log in sorted(prefix.glob("**/haproxy.log"))
        for line in log.read_text(errors="replace").splitlines()
        if "gateways/" in line
        and ("DOWN" in line or "failed" in line)
        and not line.startswith("[")  # HAProxy writes each twice, once with a "[WARNING]" prefix
    ]


async def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fleet30k")
    defaults = Plan()
    for name, value in asdict(defaults).items():
        flag = "--" + name.replace("_", "-")
        if isinstance(value, list):
            parser.add_argument(flag, default=",".join(f"{v:g}" for v in value), help="comma-separated")
        else:
            parser.add_argument(flag, type=type(value), default=value)
    parser.add_argument("--output", default="fleet30k", help="bench/results/<output>.json")
    args = parser.parse_args()
    options = {k: v for k, v in vars(args).items() if k != "output"}
    options["rates"] = [float(r) for r in args.rates.split(",") if r]
    plan = Plan(**options)
    command = ("python -m bench.fleet30k " + " ".join(sys.argv[1:])).strip()
    async with embedded_settings() as settings:
        with tempfile.TemporaryDirectory(prefix="mydrtv-fleet30k-") as work:
            media = Path(work) / "media"
            await asyncio.to_thread(media.mkdir)
            with_storage = msgspec.structs.replace(settings, storage_url=media.as_uri())  # the worker's
            result = await fleet(with_storage, plan, Path(work))
    path = write_results(args.output, command, result)
    print(msgspec.json.encode(result["phases"]).decode())
    print(f"written to {path}", file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main())

"""Live comments at popular-video rates (issue 17): 1000 viewers of one video on one gateway
process at 100 and 50 comments/s through the API, beside the bare ``websockets`` broadcast server
at the same rates; 10 000 viewers split over gateway processes; 1 comment/s on each of 1000
videos; and the outbox relay's throughput and lag.

    python -m bench.live_comments [--seconds 10] [--windows 0,20] [--profile DIR]

Viewers are ``bench.viewers`` workers (lean clients, so the servers stay what is measured).
Phases, in one run:

- ``sustained``: ``--rate`` comments/s (100) for ``--seconds`` posted through the API by
  ``--posters`` users on a video ``--viewers`` (1000) watch: post-to-screen latency (from just
  before the ``POST`` to the viewer's receipt), deliveries, lost, server CPU;
- ``latency``: the same at ``--latency-rate`` (50);
- ``alone`` (only when named in ``--phases``): the same rate on a video nobody watches, the post
  path's CPU by itself;
- ``bus``: ``--rate`` events/s of the same shape published straight on the bus: the fan-out alone;
- ``bare_sustained``/``bare_latency``: the bare ``websockets`` broadcast server
  (``bench.bare_server``) with as many viewers, at the same two rates;
- ``relay``: the outbox rows of the two comment phases: lag from the comment transaction's start
  to the relay marking the row published, after the bus took it (an upper bound of commit to bus);
  then ``--relay-rows`` rows committed at once for an unwatched channel: events/s until the relay
  has published them all;
- ``wide``: ``--wide-viewers`` (10 000) viewers spread over ``--wide-gateways`` gateway processes,
  ``--wide-rate`` comments/s through the API of the first;
- ``many``: ``--videos`` (1000) videos with one viewer each and one event a second on each,
  committed to the outbox in a transaction per 10 ms tick (what the comment API's transactions
  leave there): commit-to-screen latency through relay, Redis and fan-out.

``--api-processes 0,2`` runs ``sustained`` and ``latency`` in two layouts: posts through the
gateway itself (0), and posts through 2 other server processes while the viewers stay on the
gateway (the API and gateway roles scaled apart; the issue's goal is per gateway process), with the
gateway's CPU per comment reported apart from the API processes' (``api2`` in the JSON).

``--windows 0,20`` runs the single-gateway, ``many`` and ``wide`` groups once per gateway write
coalescing window (``MYDRTV_WS_WRITE_COALESCE_MS``, in ms; 0: a write per socket every loop
iteration, the behaviour before the setting), one window after the other in the same run, each
recorded as ``w<ms>_<group>`` with its window and load average; the bare server runs once, after
the single-gateway groups.

``--profile DIR`` records the gateway process with py-spy during ``sustained`` (raw collapsed
stacks, ``DIR/live_comments_w<ms>[_api<N>].txt``; ``python -m bench.profile FILE`` prints its top
frames). Writes ``bench/results/live_comments.json`` (``--output``).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec
import psutil

from bench.comments import Posters as CommentPosters
from bench.comments import body, fake_event
from bench.fanout import bare_side, payload
from bench.harness import embedded_settings, gateways, write_results
from bench.viewer_workers import Viewers
from core.settings import Settings
from realtime.bus.redis import RedisBus
from realtime.channels import channel_name
from support.processes import ServerProcess


class Posters(CommentPosters):
    """``bench.comments``' posters, whose idle connections close before the server's keep-alive
    ends (a request on a connection the server is closing fails at random otherwise), and for
    whom a failed request is counted, not fatal."""

    @classmethod
    async def create(cls, settings: Settings, server: ServerProcess, count: int) -> Posters:
        posters = await super().create(settings, server, count)
        await posters.http.aclose()
        posters.http = httpx.AsyncClient(
            base_url=server.http_url,
            timeout=60,
            limits=httpx.Limits(max_connections=count, keepalive_expiry=2),
        )
        return posters  # type: ignore[return-value]

    async def post(self, video: str, poster: int) -> None:
        try:
            await super().post(video, poster)
        except httpx.TransportError as exc:
            self.failed += 1
            print(f"post failed: {exc!r}", file=sys.stderr)

    def through(self, servers: list[ServerProcess]) -> None:
        """Post through ``servers`` (the API role), poster ``n`` always through the same one;
        none: through the server the posters were created for."""
        self.apis = [
            httpx.AsyncClient(
                base_url=server.http_url,
                timeout=60,
                limits=httpx.Limits(max_connections=len(self.headers), keepalive_expiry=2),
            )
            for server in servers
        ]

    async def post_one(self, video: str, poster: int) -> None:
        apis = getattr(self, "apis", [])
        if not apis:
            await self.post(video, poster)
            return
        self.seq += 1
        try:
            response = await apis[poster % len(apis)].post(
                f"/videos/{video}/comments", json={"body": body(self.seq)}, headers=self.headers[poster]
            )
        except httpx.TransportError as exc:
            self.failed += 1
            print(f"post failed: {exc!r}", file=sys.stderr)
            return
        if response.status_code != 201:
            self.failed += 1
            print(f"post failed: {response.status_code} {response.text}", file=sys.stderr)

    async def close(self) -> None:
        for api in getattr(self, "apis", []):
            await api.aclose()
        await super().close()


def quantile(histogram: Counter[int], fraction: float) -> float:
    """The ``fraction`` quantile of 0.1 ms buckets, in ms."""
    total = sum(histogram.values())
    if not total:
        return float("nan")
    rank, seen = fraction * total, 0
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        if seen >= rank:
            return round(bucket / 10, 1)
    return round(max(histogram) / 10, 1)


def summary(delivered: dict[str, Any], expected: int) -> dict[str, Any]:
    h = delivered["histogram"]
    return {
        "deliveries": delivered["received"],
        "expected": expected,
        "lost": expected - delivered["received"],
        "p50_ms": quantile(h, 0.5),
        "p99_ms": quantile(h, 0.99),
        "max_ms": round(max(h, default=0) / 10, 1),
        "sockets_closed": delivered["closed"],
    }


class Cpu:
    """Server CPU seconds of some processes, between two readings."""

    def __init__(self, pids: list[int]) -> None:
        self.processes = [psutil.Process(pid) for pid in pids]
        self.start = self.now()

    def now(self) -> float:
        return sum(float(sum(p.cpu_times()[:2])) for p in self.processes)

    def since(self) -> float:
        return self.now() - self.start


async def paced(rate: float, seconds: float, step: Any) -> int:
    """Call ``step(n)`` ``rate`` times a second for ``seconds``, on schedule; returns the count."""
    interval, start, count = 1 / rate, time.monotonic(), int(rate * seconds)
    for n in range(count):
        await asyncio.sleep(max(0.0, start + n * interval - time.monotonic()))
        await step(n)
    return count


async def post_phase(
    posters: Posters, viewers: Viewers, video: str, rate: float, seconds: float, sent: int, n_viewers: int
) -> tuple[dict[str, Any], int, list[asyncio.Task[None]]]:
    await viewers.mark()
    tasks: list[asyncio.Task[None]] = []
    failed = posters.failed

    async def post(n: int) -> None:
        tasks.append(asyncio.create_task(posters.post_one(video, n % len(posters.headers))))

    started = time.monotonic()
    count = await paced(rate, seconds, post)
    await asyncio.gather(*tasks)
    answered = time.monotonic() - started
    posted = count - (posters.failed - failed)
    delivered = await viewers.collect(sent + posted, 60)
    return (
        {"rate_per_second": rate, "comments": count, "failed_posts": count - posted,
         "posted_per_second": round(count / answered, 1), **summary(delivered, posted * n_viewers)},
        sent + posted,
        tasks,
    )  # fmt: skip


async def relay_lag(settings: Settings, channel: str, after: int) -> tuple[dict[str, Any], int]:
    connection = await asyncpg.connect(settings.database_url)
    try:
        rows = await connection.fetch(
            "SELECT id, extract(epoch FROM published_at - created_at) * 1000 AS lag,"
            " extract(epoch FROM published_at) AS published FROM outbox"
            " WHERE channel = $1 AND id > $2 ORDER BY id",
            channel,
            after,
        )
    finally:
        await connection.close()
    lags = Counter(int(float(r["lag"]) * 10) for r in rows if r["lag"] is not None)
    top = max((int(r["id"]) for r in rows), default=after)
    published = [float(r["published"]) for r in rows if r["published"] is not None]
    span = max(published, default=0.0) - min(published, default=0.0)
    return {
        "rows": len(rows),
        "p50_ms": quantile(lags, 0.5),
        "p99_ms": quantile(lags, 0.99),
        # events the relay published per second, from its first to its last of these rows
        "events_per_second": round((len(published) - 1) / span, 1) if span > 0 else None,
    }, top


async def relay_capacity(settings: Settings, rows: int) -> dict[str, Any]:
    """``rows`` events committed at once for a channel nobody watches; events/s until published."""
    connection = await asyncpg.connect(settings.database_url)
    channel = channel_name("video", f"relay-{uuid.uuid4().hex[:8]}")
    try:
        event = fake_event(str(uuid.uuid4()), 0)
        async with connection.transaction():
            await connection.execute(
                "INSERT INTO outbox (channel, payload) SELECT $1, $2 FROM generate_series(1, $3)",
                channel, event, rows,
            )  # fmt: skip
            await connection.execute("SELECT pg_notify('mydrtv_outbox', '')")
        committed = time.time()
        unpublished = "SELECT count(*) FROM outbox WHERE channel = $1 AND published_at IS NULL"
        for _ in range(2400):  # the relay is another process: poll its table, for up to 2 minutes
            if not await connection.fetchval(unpublished, channel):
                break
            await asyncio.sleep(0.05)
        last = await connection.fetchval(
            "SELECT extract(epoch FROM max(published_at)) FROM outbox WHERE channel = $1", channel
        )
    finally:
        await connection.close()
    seconds = float(last) - committed
    return {"rows": rows, "seconds": round(seconds, 3), "events_per_second": round(rows / seconds)}


class Profiler:
    """py-spy recording one process for as long as the context lasts."""

    def __init__(self, directory: str | None, pid: int, name: str) -> None:
        self.directory, self.pid, self.name = directory, pid, name
        self.process: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> Profiler:
        if self.directory is not None:
            Path(self.directory).mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240
            out = str(Path(self.directory) / f"{self.name}.txt")
            self.process = await asyncio.create_subprocess_exec(
                str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(self.pid),
                "--rate", "250", "--format", "raw", "--output", out, "--nonblocking",
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
            await asyncio.sleep(1)  # py-spy attaches
        return self

    async def __aexit__(self, *_: object) -> None:
        if self.process is not None:
            self.process.send_signal(2)  # SIGINT: py-spy writes what it has and exits
            await asyncio.wait_for(self.process.wait(), 60)


async def single(settings: Settings, args: argparse.Namespace, apis: int = 0) -> dict[str, Any]:
    """1000 viewers of one video on one gateway: comments, bus events, relay.

    ``apis``: 0, the gateway serves the posts too; N, the posts go through N other server
    processes (the API role, scaled apart from the gateway's), and the gateway's CPU is counted
    apart from theirs. With N > 0 only the two comment phases run (the rest does not depend on
    where posts go)."""
    result: dict[str, Any] = {"api_processes": apis}
    async with gateways(settings, 1 + apis) as (server, *api_servers):
        assert server.process is not None
        posters = await Posters.create(settings, server, args.posters)
        posters.through(api_servers)
        bus = RedisBus(settings.redis_url, settings.redis_namespace, settings.bus_history_size)
        await bus.start()
        viewers = Viewers()
        pids = [server.process.pid] + [s.process.pid for s in api_servers if s.process is not None]

        def cpu_figures(phase: dict[str, Any], gateway: Cpu, everyone: Cpu) -> None:
            per_comment = 1000 / phase["comments"]
            phase["server_cpu_ms_per_comment"] = round(per_comment * everyone.since(), 2)
            if apis:
                phase["gateway_cpu_ms_per_comment"] = round(per_comment * gateway.since(), 2)
                phase["api_cpu_ms_per_comment"] = round(per_comment * (everyone.since() - gateway.since()), 2)

        try:
            video = await posters.video()
            for _ in range(2):  # warm-up: connections, caches, the planner, on every API process
                await asyncio.gather(*(posters.post_one(video, n) for n in range(len(posters.headers))))
            video = await posters.video()
            channel = channel_name("video", video)
            await viewers.start(args.viewers, args.processes, "comments", server.ws_url, [channel])
            sent = 0
            name = f"live_comments_w{settings.ws_write_coalesce_ms:g}" + (f"_api{apis}" if apis else "")
            async with Profiler(args.profile, server.process.pid, name):
                gateway, everyone = Cpu([server.process.pid]), Cpu(pids)
                result["sustained"], sent, _ = await post_phase(
                    posters, viewers, video, args.rate, args.seconds, sent, args.viewers
                )
                cpu_figures(result["sustained"], gateway, everyone)
            result["relay_sustained"], after = await relay_lag(settings, channel, 0)
            gateway, everyone = Cpu([server.process.pid]), Cpu(pids)
            result["latency"], sent, _ = await post_phase(
                posters, viewers, video, args.latency_rate, args.seconds, sent, args.viewers
            )
            cpu_figures(result["latency"], gateway, everyone)
            result["relay_latency"], _ = await relay_lag(settings, channel, after)

            if not apis:
                await viewers.mark()
                cpu = Cpu([server.process.pid])

                async def publish(n: int) -> None:
                    await bus.publish(channel, fake_event(video, 1_000_000 + n))

                count = await paced(args.rate, args.seconds, publish)
                delivered = await viewers.collect(sent + count, 60)
                result["bus"] = {
                    "rate_per_second": args.rate,
                    "events": count,
                    **summary(delivered, count * args.viewers),
                    "server_cpu_ms_per_1000_deliveries": round(
                        1e6 * cpu.since() / max(1, delivered["received"]), 2
                    ),
                }
                result["relay_capacity"] = await relay_capacity(settings, args.relay_rows)
            result["failed_posts"] = posters.failed
        finally:
            await viewers.stop()
            await bus.stop()
            await posters.close()
    return result


async def alone(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    """The post path by itself: ``--rate`` comments/s for ``--seconds`` on a video nobody
    watches, through one server process (API, transaction, relay); its CPU per comment."""
    async with gateways(settings, 1) as (server,):
        assert server.process is not None
        posters = await Posters.create(settings, server, args.posters)
        try:
            video = await posters.video()
            for _ in range(2):  # warm-up: connections, caches, the planner
                await asyncio.gather(*(posters.post_one(video, n) for n in range(len(posters.headers))))
            video = await posters.video()
            cpu, tasks = Cpu([server.process.pid]), []

            async def post(n: int) -> None:
                tasks.append(asyncio.create_task(posters.post_one(video, n % len(posters.headers))))

            started = time.monotonic()
            count = await paced(args.rate, args.seconds, post)
            await asyncio.gather(*tasks)
            answered = time.monotonic() - started
            return {
                "rate_per_second": args.rate,
                "comments": count,
                "failed_posts": posters.failed,
                "posted_per_second": round(count / answered, 1),
                "server_cpu_ms_per_comment": round(1000 * cpu.since() / count, 2),
            }
        finally:
            await posters.close()


async def bare(args: argparse.Namespace) -> dict[str, Any]:
    result: dict[str, Any] = {}
    async with bare_side(pings=False) as (publisher, url):
        viewers = Viewers()
        await viewers.start(args.viewers, args.processes, "bare", url, [])
        try:
            sent = 0
            for phase, rate in (("bare_sustained", args.rate), ("bare_latency", args.latency_rate)):
                await viewers.mark()
                cpu = Cpu(publisher.pids)

                async def publish(n: int) -> None:
                    await publisher.publish(payload(n))

                count = await paced(rate, args.seconds, publish)
                sent += count
                delivered = await viewers.collect(sent, 60)
                result[phase] = {
                    "rate_per_second": rate,
                    "events": count,
                    **summary(delivered, count * args.viewers),
                    "server_cpu_ms_per_1000_deliveries": round(
                        1e6 * cpu.since() / max(1, delivered["received"]), 2
                    ),
                }
        finally:
            await viewers.stop()
    return result


async def wide(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    """Many viewers over several gateway processes; comments posted through the first."""
    async with gateways(settings, args.wide_gateways) as servers:
        posters = await Posters.create(settings, servers[0], args.posters)
        viewers = Viewers()
        try:
            video = await posters.video()
            channel = channel_name("video", video)
            urls = ",".join(server.ws_url for server in servers)
            await viewers.start(
                args.wide_viewers, args.wide_processes, "comments", urls, [channel], parallel=10
            )
            cpu = Cpu([s.process.pid for s in servers if s.process is not None])
            phase, _, _ = await post_phase(
                posters, viewers, video, args.wide_rate, args.seconds, 0, args.wide_viewers
            )
            phase["gateways"] = args.wide_gateways
            phase["viewers"] = args.wide_viewers
            cpu_ms = 1e6 * cpu.since() / max(1, phase["deliveries"])
            phase["server_cpu_ms_per_1000_deliveries"] = round(cpu_ms, 2)
            phase["failed_posts"] = posters.failed
        finally:
            await viewers.stop()
            await posters.close()
    return phase


async def many(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    """One viewer on each of ``--videos`` videos, one event a second on each, through the outbox."""
    async with gateways(settings, 1) as (server,):
        assert server.process is not None
        videos = [str(uuid.uuid4()) for _ in range(args.videos)]
        channels = [channel_name("video", v) for v in videos]
        viewers = Viewers()
        connection = await asyncpg.connect(settings.database_url)
        try:
            # Each new channel costs a subscribe on Redis and a visibility read: fewer at once.
            await viewers.start(args.videos, args.processes, "comments", server.ws_url, channels, parallel=5)
            await viewers.mark()
            cpu = Cpu([server.process.pid])
            per_tick = max(1, args.videos // 100)
            seq = 0

            async def commit(tick: int) -> None:
                nonlocal seq
                rows = []
                for k in range(per_tick):
                    index = (tick * per_tick + k) % args.videos
                    seq += 1
                    rows.append((channels[index], fake_event(videos[index], seq)))
                async with connection.transaction():
                    await connection.executemany(
                        "INSERT INTO outbox (channel, payload) VALUES ($1, $2)", rows
                    )
                    await connection.execute("SELECT pg_notify('mydrtv_outbox', '')")

            ticks = await paced(100, args.seconds, commit)
            events = ticks * per_tick
            delivered = await viewers.collect(events // args.videos, 60)
            result = {
                "videos": args.videos,
                "events_per_second": per_tick * 100,
                "events": events,
                **summary(delivered, events),
                "server_cpu_ms_per_event": round(1000 * cpu.since() / events, 3),
            }
        finally:
            await connection.close()
            await viewers.stop()
    return result


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--viewers", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--posters", type=int, default=50)
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--latency-rate", type=float, default=50)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--relay-rows", type=int, default=5000)
    parser.add_argument("--wide-viewers", type=int, default=10_000)
    parser.add_argument("--wide-gateways", type=int, default=2)
    parser.add_argument("--wide-processes", type=int, default=8)
    parser.add_argument("--wide-rate", type=float, default=10)
    parser.add_argument("--videos", type=int, default=1000)
    parser.add_argument(
        "--api-processes",
        default="0",
        help="comma-separated layouts of the single-gateway phases: 0 posts through the gateway"
        " itself, N through N other server processes (recorded as api<N>)",
    )
    parser.add_argument(
        "--windows",
        default="0,20",
        help="comma-separated write coalescing windows of the gateways, in ms"
        " (MYDRTV_WS_WRITE_COALESCE_MS; 0: a write every loop iteration, as before): each group"
        " of phases runs once per window, in turn, recorded as w<ms>_<group>",
    )
    parser.add_argument("--phases", default="single,bare,wide,many")
    parser.add_argument("--profile", default=None, help="a directory for py-spy's raw stacks")
    parser.add_argument("--output", default="live_comments", help="bench/results/<output>.json")
    args = parser.parse_args()
    phases = args.phases.split(",")
    result: dict[str, Any] = {"load_average": {}}
    command = ("python -m bench.live_comments " + " ".join(sys.argv[1:])).strip()

    windows = [float(w) for w in args.windows.split(",")]

    async def run(name: str, step: Any, window: float | None = None) -> None:
        """One group of phases; its failure (a server that fell over) is recorded, not fatal,
        and the results so far are written after each group."""
        if window is not None:
            name = f"w{window:g}_{name}"
        try:
            found = await step
            if window is not None:
                found["write_coalesce_ms"] = window
            result[name] = found
        except Exception as exc:
            result[f"{name}_failed"] = repr(exc)
        result["load_average"][name] = list(psutil.getloadavg())
        print(f"{name}: {result.get(name)}", file=sys.stderr, flush=True)
        write_results(args.output, command, {"settings": dict(vars(args)), "phases": result})

    async with embedded_settings(ws_send_queue=4096, comment_rate="1000000/minute") as settings:

        def windowed(window: float) -> Settings:
            return msgspec.structs.replace(settings, ws_write_coalesce_ms=window)

        if "single" in phases:
            for apis in (int(n) for n in args.api_processes.split(",")):
                for window in windows:
                    group = f"api{apis}" if apis else "single"
                    await run(group, single(windowed(window), args, apis), window)
        if "alone" in phases:
            await run("alone", alone(settings, args))
        if "bare" in phases:
            await run("bare", bare(args))
        if "many" in phases:
            for window in windows:
                await run("many", many(windowed(window), args), window)
        if "wide" in phases:
            for window in windows:
                await run("wide", wide(windowed(window), args), window)
    print(f"written to bench/results/{args.output}.json", file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main())

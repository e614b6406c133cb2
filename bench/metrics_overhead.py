"""What metrics cost the fan-out: the gateway with ``MYDRTV_METRICS`` off and on, interleaved.

    python -m bench.metrics_overhead [--subscribers 1000] [--rounds 6] [--burst 1000]

Each round runs ``bench.fanout``'s phases (a burst, then a steady rate) against a fresh gateway
process with metrics off, then against one with metrics on while a scraper reads ``/metrics``
every ``--scrape-seconds`` (1 s: far more often than Prometheus's usual 15 to 30 s, so scraping
costs are counted generously). The order alternates between rounds, so a drift of the machine
does not favour one side. Compared: burst deliveries/s and the server's CPU per 1000 deliveries.
Both sides also answer ``/health/live`` at the same interval: a control for how long any HTTP
request waits while the process fans out, beside how long a scrape takes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import msgspec

from bench.fanout import CHANNEL, GatewayPublisher, run_phases
from bench.fleet import Fleet
from bench.harness import embedded_settings, gateways, write_results
from core.settings import Settings
from realtime.bus.redis import RedisBus

TOKEN = "bench-scrape-token"


async def get_every(url: str, seconds: float, took: list[float]) -> None:
    """GET ``url`` every ``seconds`` (a scrape, or the control probe), keeping how long each took."""
    async with httpx.AsyncClient(timeout=120) as client:
        while True:
            started = time.perf_counter()
            response = await client.get(url, headers={"Authorization": f"Bearer {TOKEN}"})
            response.raise_for_status()
            took.append(time.perf_counter() - started)
            await asyncio.sleep(seconds)  # a scrape interval, as Prometheus keeps


@asynccontextmanager
async def gateway(
    settings: Settings, every: float, scrape: bool
) -> AsyncIterator[tuple[Any, str, list[float], list[float]]]:
    """One gateway process, a bus publisher, its URL, and how long each scrape (metrics on) and
    each liveness probe took."""
    async with gateways(settings, 1) as (server,):
        bus = RedisBus(settings.redis_url, settings.redis_namespace, settings.bus_history_size)
        await bus.start()
        scrapes: list[float] = []
        probes: list[float] = []
        # Both sides answer a liveness probe as often: a control for how long any HTTP request
        # waits while the process fans out, beside how long a scrape takes.
        getters = [asyncio.create_task(get_every(server.http_url + "/health/live", every, probes))]
        if scrape:
            getters.append(asyncio.create_task(get_every(server.http_url + "/metrics", every, scrapes)))
        try:
            assert server.process is not None
            yield GatewayPublisher(bus, [server.process.pid]), server.ws_url, scrapes, probes
        finally:
            for getter in getters:
                getter.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await getter
            await bus.stop()


async def one(settings: Settings, metrics: bool, args: argparse.Namespace) -> dict[str, Any]:
    configured = msgspec.structs.replace(settings, metrics=metrics, metrics_token=TOKEN if metrics else "")
    async with gateway(configured, args.scrape_seconds, metrics) as (publisher, url, scrapes, probes):
        fleet = Fleet()
        await fleet.start(
            args.subscribers, args.processes, "--urls", url, "--mode", "gateway", "--channel", CHANNEL
        )
        try:
            result = await run_phases(publisher, fleet, args.subscribers, args)
        finally:
            await fleet.stop()
    result["scrapes"] = len(scrapes)
    result["scrape_seconds_max"] = round(max(scrapes, default=0.0), 3)
    result["scrape_seconds_median"] = round(statistics.median(scrapes), 3) if scrapes else None
    result["probe_seconds_max"] = round(max(probes, default=0.0), 3)
    result["probe_seconds_median"] = round(statistics.median(probes), 3) if probes else None
    print(f"metrics {'on' if metrics else 'off'}: {result}", file=sys.stderr, flush=True)
    return result


def _median_ratio(rounds: list[dict[str, Any]], key: str) -> float:
    ratios = [float(r["on"]["burst"][key]) / float(r["off"]["burst"][key]) for r in rounds]
    return round(statistics.median(ratios), 4)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--burst", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=10)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--scrape-seconds", type=float, default=1.0)
    args = parser.parse_args()
    rounds: list[dict[str, Any]] = []
    async with embedded_settings(ws_send_queue=4096) as settings:
        for n in range(args.rounds):
            order = (False, True) if n % 2 == 0 else (True, False)
            results = {metrics: await one(settings, metrics, args) for metrics in order}
            rounds.append({"off": results[False], "on": results[True]})
    summary = {
        "subscribers": args.subscribers,
        "deliveries_per_second_on_to_off_median": _median_ratio(rounds, "deliveries_per_second"),
        "cpu_per_delivery_on_to_off_median": _median_ratio(rounds, "server_cpu_ms_per_1000_deliveries"),
        "off_deliveries_per_second_median": statistics.median(
            r["off"]["burst"]["deliveries_per_second"] for r in rounds
        ),
        "on_deliveries_per_second_median": statistics.median(
            r["on"]["burst"]["deliveries_per_second"] for r in rounds
        ),
        "off_cpu_ms_per_1000_deliveries_median": statistics.median(
            r["off"]["burst"]["server_cpu_ms_per_1000_deliveries"] for r in rounds
        ),
        "on_cpu_ms_per_1000_deliveries_median": statistics.median(
            r["on"]["burst"]["server_cpu_ms_per_1000_deliveries"] for r in rounds
        ),
        "off_steady_p99_ms_median": statistics.median(r["off"]["steady"]["p99_ms"] for r in rounds),
        "on_steady_p99_ms_median": statistics.median(r["on"]["steady"]["p99_ms"] for r in rounds),
        "lost": sum(
            side["burst"]["expected"]
            - side["burst"]["deliveries"]
            + side["steady"]["expected"]
            - side["steady"]["deliveries"]
            for r in rounds
            for side in r.values()
        ),
    }
    command = "python -m bench.metrics_overhead " + " ".join(sys.argv[1:])
    path = write_results(
        "metrics_overhead", command.strip(), {"settings": vars(args), "summary": summary, "rounds": rounds}
    )
    print(msgspec.json.encode(summary).decode())
    print(f"written to {path}", file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main())

"""Idle connections: N authenticated websockets on one gateway process, and the memory they take,
beside the same N plain sockets on a bare ``websockets`` server in the same run.

    python -m bench.connections [--connections 10000]

Each gateway socket sends ``connect`` with its own user's token and subscribes to that user's
channel (what a signed-in client does), then stays idle. Memory per connection is the growth of
the server's resident set size (RSS) divided by N, measured after a warm-up of
``--warmup`` connections so that imports and first-use allocations are not counted.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import msgspec
import psutil

from app.settings import Settings
from bench.fleet import Fleet
from bench.harness import embedded_settings, gateways, run_worker, write_results
from support.services import free_port


@asynccontextmanager
async def gateway_server(settings: Settings) -> AsyncIterator[tuple[int, str]]:
    async with gateways(settings, 1) as (server,):
        assert server.process is not None
        yield server.process.pid, server.ws_url


@asynccontextmanager
async def bare_server() -> AsyncIterator[tuple[int, str]]:
    port = free_port()
    process = await run_worker("bare_server", "--port", str(port))
    try:
        assert process.stdout is not None
        await asyncio.wait_for(process.stdout.readline(), 30)
        yield process.pid, f"ws://127.0.0.1:{port}/"
    finally:
        process.terminate()
        await process.wait()


async def measure(server: Any, args: argparse.Namespace, worker_args: list[str]) -> dict[str, Any]:
    async with server as (pid, url):
        process = psutil.Process(pid)
        warmup = Fleet()
        await warmup.start(args.warmup, 1, "--urls", url, *worker_args)
        before = process.memory_info().rss
        fleet = Fleet()
        await fleet.start(args.connections, args.processes, "--urls", url, *worker_args)
        after = process.memory_info().rss
        await fleet.stop()
        await warmup.stop()
    return {
        "connections": args.connections,
        "rss_before_mb": round(before / 2**20, 1),
        "rss_after_mb": round(after / 2**20, 1),
        "kb_per_connection": round((after - before) / args.connections / 1024, 2),
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=10_000)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=200)
    args = parser.parse_args()
    async with embedded_settings() as settings:
        worker_args = ["--mode", "gateway", "--channel", "own", "--secret", settings.jwt_secret]
        worker_args += ["--issuer", settings.jwt_issuer, "--database-url", settings.database_url]
        gateway = await measure(gateway_server(settings), args, worker_args)
        print(f"gateway: {gateway}", file=sys.stderr, flush=True)
        bare = await measure(bare_server(), args, ["--mode", "bare"])
        print(f"bare: {bare}", file=sys.stderr, flush=True)
    summary = {
        "connections": args.connections,
        "gateway_kb_per_connection": gateway["kb_per_connection"],
        "bare_kb_per_connection": bare["kb_per_connection"],
        "ratio_gateway_to_bare": round(gateway["kb_per_connection"] / bare["kb_per_connection"], 2),
    }
    command = ("python -m bench.connections " + " ".join(sys.argv[1:])).strip()
    path = write_results(
        "connections", command, {"settings": vars(args), "summary": summary, "gateway": gateway, "bare": bare}
    )
    print(msgspec.json.encode(summary).decode())
    print(f"written to {path}", file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main())

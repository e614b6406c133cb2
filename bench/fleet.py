"""Subscriber worker processes (``bench.subscribers``) driven together as one fleet."""

from __future__ import annotations

import asyncio
from typing import Any

from bench.harness import read_line, run_worker, tell


class Fleet:
    def __init__(self) -> None:
        self.workers: list[asyncio.subprocess.Process] = []

    async def start(self, subscribers: int, processes: int, *args: str) -> None:
        """Spread ``subscribers`` over ``processes`` workers and wait until all are connected."""
        shares = [
            subscribers // processes + (1 if n < subscribers % processes else 0) for n in range(processes)
        ]
        self.workers = [
            await run_worker("subscribers", "--count", str(share), *args) for share in shares if share
        ]
        ready = await asyncio.gather(*(read_line(worker) for worker in self.workers))
        connected = sum(line["ready"] for line in ready)
        if connected != subscribers:
            raise RuntimeError(f"only {connected} of {subscribers} subscribers connected")

    async def mark(self) -> None:
        for worker in self.workers:
            await tell(worker, "mark")
        await asyncio.gather(*(read_line(worker) for worker in self.workers))

    async def collect(self, target: int, within: float) -> dict[str, Any]:
        """Wait until every subscriber has ``target`` messages in all; merge what the workers saw."""
        for worker in self.workers:
            await tell(worker, f"collect {target} {within}")
        results = await asyncio.gather(*(read_line(worker, within + 60) for worker in self.workers))
        return {
            "received": sum(r["received"] for r in results),
            "complete": sum(r["complete"] for r in results),
            "latencies_ms": [latency for r in results for latency in r["latencies_ms"]],
            "last_ns": max(r["last_ns"] for r in results),
        }

    async def stop(self) -> None:
        for worker in self.workers:
            if worker.returncode is None:
                await tell(worker, "quit")
        await asyncio.gather(*(asyncio.wait_for(worker.wait(), 60) for worker in self.workers))
        self.workers = []

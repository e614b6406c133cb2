"""``bench.viewers`` worker processes driven together: started with a share of the viewers each,
told to mark and collect, and their counts merged. Used by the live-comments and the 30 000-client
benches."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from bench.harness import read_line, run_worker, tell


def shares(count: int, processes: int) -> list[int]:
    """``count`` spread as evenly as it goes over ``processes``."""
    return [count // processes + (1 if n < count % processes else 0) for n in range(processes)]


class Viewers:
    def __init__(self) -> None:
        self.workers: list[asyncio.subprocess.Process] = []

    async def start(
        self, count: int, processes: int, mode: str, urls: str, channels: list[str], parallel: int = 50
    ) -> None:
        first = 0
        for share in shares(count, processes):
            if share:
                await self.spawn(
                    "--mode", mode, "--urls", urls, "--count", str(share), "--channels",
                    ",".join(channels), "--first", str(first), "--parallel", str(parallel),
                )  # fmt: skip
            first += share
        await self.connected(count, within=600)

    async def spawn(self, *args: str) -> None:
        self.workers.append(await run_worker("viewers", *args))

    async def connected(self, count: int, within: float) -> None:
        """Wait for every worker's ready line; all ``count`` sockets must have connected."""
        ready = await asyncio.gather(*(read_line(worker, within) for worker in self.workers))
        connected = sum(line["ready"] for line in ready)
        if connected != count:
            raise RuntimeError(f"only {connected} of {count} viewers connected")

    async def mark(self) -> None:
        for worker in self.workers:
            await tell(worker, "mark")
        await asyncio.gather(*(read_line(worker) for worker in self.workers))

    async def collect(self, target: int, within: float) -> dict[str, Any]:
        """Wait until every viewer has ``target`` messages in all (or ``within`` passes)."""
        for worker in self.workers:
            await tell(worker, f"collect {target} {within}")
        results = await asyncio.gather(*(read_line(worker, within + 120) for worker in self.workers))
        histogram: Counter[int] = Counter()
        for r in results:
            histogram.update({int(k): v for k, v in r["histogram"].items()})
        return {
            "received": sum(r["received"] for r in results),
            "complete": sum(r["complete"] for r in results),
            "closed": sum(r["closed"] for r in results),
            "histogram": histogram,
            "last_ns": max(r["last_ns"] for r in results),
        }

    async def stop(self) -> None:
        for worker in self.workers:
            if worker.returncode is None:
                await tell(worker, "quit")
        await asyncio.gather(*(asyncio.wait_for(w.wait(), 120) for w in self.workers))
        self.workers = []

"""What every benchmark needs: an embedded stack, gateway processes, tokens, statistics, results.

The stack is the embedded one (PostgreSQL and Redis from the wheels) in a temporary directory, so
a benchmark runs the same on a fresh machine as here and never touches a developer's data.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import resource
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import msgspec

from app.identity.crypto import new_master_key
from core.settings import Settings
from core.tokens import AccessTokens, Principal
from server.cli import migrate
from server.embedded.stack import EmbeddedStack
from support.processes import ServerProcess
from support.services import free_port

RESULTS = Path(__file__).parent / "results"


@asynccontextmanager
async def embedded_settings(**changes: Any) -> AsyncIterator[Settings]:
    """Settings of a migrated embedded stack that lives as long as the context."""
    with tempfile.TemporaryDirectory(prefix="mydrtv-bench-") as data_dir:
        settings = Settings(
            data_dir=data_dir,
            embedded_postgres_port=free_port(),
            embedded_redis_port=free_port(),
            jwt_secret="bench-" + uuid.uuid4().hex,
            privacy_master_key=new_master_key(),
            **changes,
        )
        stack = EmbeddedStack(settings)
        stack.start()
        try:
            await stack.create_databases()
            configured = msgspec.structs.replace(stack.configure(settings), graph_url="", storage_url="")
            await migrate(configured)
            yield configured
        finally:
            stack.stop()


@asynccontextmanager
async def gateways(settings: Settings, count: int) -> AsyncIterator[list[ServerProcess]]:
    servers = [ServerProcess(settings) for _ in range(count)]
    await asyncio.gather(*(server.start() for server in servers))
    try:
        yield servers
    except BaseException:
        for server in servers:
            print("".join(server.lines[-20:]), file=sys.stderr)
        raise
    finally:
        await asyncio.gather(*(server.stop() for server in servers if server.process))


def tokens(settings: Settings, count: int) -> list[str]:
    """Access tokens of ``count`` distinct users, valid for an hour."""
    issuer = AccessTokens(settings.jwt_secret, settings.jwt_issuer, 3600)
    return [
        issuer.issue(Principal(id=uuid.uuid4(), handle=f"viewer{n}", role="viewer")) for n in range(count)
    ]


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def latency_summary(latencies_ms: Sequence[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(latencies_ms, 0.50), 2),
        "p99_ms": round(percentile(latencies_ms, 0.99), 2),
        "max_ms": round(max(latencies_ms, default=float("nan")), 2),
    }


def write_results(name: str, command: str, results: dict[str, Any]) -> Path:
    """Write ``bench/results/<name>.json`` with what the machine was and when it ran."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    document = {
        "benchmark": name,
        "command": command,
        "ran_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        **results,
    }
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path


async def run_worker(module: str, *args: str) -> asyncio.subprocess.Process:
    """Start ``python -m bench.<module>`` with pipes for its control lines."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        f"bench.{module}",
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        limit=64 * 1024 * 1024,
    )


async def read_line(process: asyncio.subprocess.Process, within: float = 300) -> dict[str, Any]:
    """The worker's next JSON line."""
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), within)
    if not line:
        raise RuntimeError(f"worker exited with {await process.wait()}")
    result: dict[str, Any] = json.loads(line)
    return result


async def tell(process: asyncio.subprocess.Process, command: str) -> None:
    assert process.stdin is not None
    process.stdin.write(command.encode() + b"\n")
    await process.stdin.drain()

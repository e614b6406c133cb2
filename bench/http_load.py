"""The load of the serving benchmark: ``wrk`` with a Lua script of ours, or a plain asyncio
HTTP/1.1 keep-alive client in worker processes (``python -m bench.http_load SPEC``) where wrk
cannot be had. Both cycle through a list of paths and report counts and latency percentiles."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import msgspec

from bench.debian import command
from bench.harness import latency_summary
from bench.targets import Target

WRK_SCRIPT = """\
local paths = {%(paths)s}
local range = %(range)s
local requests = {}
local n = 0
init = function(args)
    for i, path in ipairs(paths) do
        local headers = {}
        if range then headers["Range"] = range end
        requests[i] = wrk.format("GET", path, headers)
    end
end
request = function()
    n = n + 1
    return requests[(n %% #requests) + 1]
end
done = function(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        'RESULT {"requests":%%d,"bytes":%%d,"duration_us":%%d,"connect_errors":%%d,"read_errors":%%d,'
        .. '"write_errors":%%d,"non_2xx_3xx":%%d,"timeouts":%%d,"p50_us":%%d,"p99_us":%%d,'
        .. '"max_us":%%d,"mean_us":%%.1f}\\n',
        summary.requests, summary.bytes, summary.duration, e.connect, e.read, e.write, e.status,
        e.timeout, latency:percentile(50), latency:percentile(99), latency.max, latency.mean))
end
"""


class Load(msgspec.Struct, frozen=True):
    """One load run's request mix."""

    paths: list[str]  # cycled through, one request each
    range_header: str | None
    connections: int
    seconds: int


async def wrk_load(binary: str, target: Target, load: Load, threads: int, work: Path) -> dict[str, Any]:
    script = work / "wrk.lua"
    text = WRK_SCRIPT % {
        "paths": ", ".join(json.dumps(path) for path in load.paths),
        "range": json.dumps(load.range_header) if load.range_header else "nil",
    }
    await asyncio.to_thread(script.write_text, text)
    code, output = await command(
        binary,
        "-t",
        str(min(threads, load.connections)),
        "-c",
        str(load.connections),
        "-d",
        f"{load.seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        target.base_url,
        within=load.seconds + 60,
    )
    line = next((line for line in output.splitlines() if line.startswith("RESULT ")), None)
    if code != 0 or line is None:
        raise RuntimeError(f"wrk failed ({code}):\n{output}")
    raw: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
    seconds = raw["duration_us"] / 1e6
    return {
        "requests": raw["requests"],
        "bytes": raw["bytes"],
        "seconds": round(seconds, 3),
        "errors": raw["connect_errors"] + raw["read_errors"] + raw["write_errors"] + raw["timeouts"],
        "non_2xx": raw["non_2xx_3xx"],
        "p50_ms": round(raw["p50_us"] / 1000, 2),
        "p99_ms": round(raw["p99_us"] / 1000, 2),
        "max_ms": round(raw["max_us"] / 1000, 2),
    }


async def python_load(target: Target, load: Load, processes: int) -> dict[str, Any]:
    """``load`` from ``processes`` worker processes of the asyncio client (``--load-worker``)."""
    per = [load.connections // processes + (n < load.connections % processes) for n in range(processes)]
    workers = []
    for n, connections in enumerate(c for c in per if c):
        spec = {
            "url": target.base_url,
            "paths": load.paths[n:] + load.paths[:n],
            "range": load.range_header,
            "connections": connections,
            "seconds": load.seconds,
        }
        workers.append(
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bench.http_load",
                json.dumps(spec),
                stdout=asyncio.subprocess.PIPE,
                limit=64 * 1024 * 1024,
            )
        )
    try:
        outputs = await asyncio.wait_for(
            asyncio.gather(*(worker.communicate() for worker in workers)), load.seconds + 60
        )
    finally:
        for worker in workers:
            if worker.returncode is None:
                worker.kill()
                await worker.wait()
    results = [json.loads(out) for out, _ in outputs]
    latencies = [latency for result in results for latency in result["latencies_ms"]]
    return {
        "requests": sum(r["requests"] for r in results),
        "bytes": sum(r["bytes"] for r in results),
        "seconds": round(max(r["seconds"] for r in results), 3),
        "errors": sum(r["errors"] for r in results),
        "non_2xx": sum(r["non_2xx"] for r in results),
        **latency_summary(latencies),
    }


async def load_worker(spec: dict[str, Any]) -> None:
    """One process of the asyncio client: keep-alive HTTP/1.1 connections, one request in flight
    each, until the time is up; prints counts and every latency as JSON."""
    url = httpx.URL(spec["url"])
    host, port = url.host, url.port or 80
    extra = f"Range: {spec['range']}\r\n" if spec["range"] else ""
    requests = [
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{extra}\r\n".encode() for path in spec["paths"]
    ]
    latencies: list[float] = []
    totals = {"requests": 0, "bytes": 0, "errors": 0, "non_2xx": 0}
    started = time.monotonic()
    deadline = started + float(spec["seconds"])

    async def connection(offset: int) -> None:
        try:
            reader, writer = await asyncio.open_connection(host, port, limit=1 << 20)
        except OSError:
            totals["errors"] += 1
            return
        n = offset
        try:
            while time.monotonic() < deadline:
                request = requests[n % len(requests)]
                n += 1
                sent = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head[9:12])
                match = re.search(rb"\r\ncontent-length:\s*(\d+)", head, re.IGNORECASE)
                if match is None:
                    raise ValueError("an answer without Content-Length")
                left = int(match[1])
                size = len(head) + left
                while left:
                    chunk = await reader.read(min(left, 1 << 20))
                    if not chunk:
                        raise ConnectionError("closed in the middle of a body")
                    left -= len(chunk)
                latencies.append(round((time.perf_counter() - sent) * 1000, 3))
                totals["requests"] += 1
                totals["bytes"] += size
                if not 200 <= status < 400:  # like wrk: redirects are answers too
                    totals["non_2xx"] += 1
        except (OSError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            totals["errors"] += 1
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    await asyncio.gather(*(connection(n) for n in range(int(spec["connections"]))))
    print(json.dumps({**totals, "seconds": time.monotonic() - started, "latencies_ms": latencies}))


async def wrk_version(binary: str) -> str:
    _, output = await command(binary, "-v", within=30)
    return output.strip().splitlines()[0] if output.strip() else "unknown"


if __name__ == "__main__":
    asyncio.run(load_worker(json.loads(sys.argv[1])))

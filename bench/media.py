"""Media: transcode speed of a 720p clip, and HLS segment serving beside nginx in the same run.

    python -m bench.media [--clip-seconds 20] [--rounds 3] [--connections 32] [--duration 10]

Transcode: a synthetic 720p clip (``testsrc2`` and a 440 Hz tone, ``media.testclips``) goes
through ``media.transcode.transcode()`` ``--rounds`` times: the full ladder it gets (240p to 720p),
the ``veryfast`` preset and 4 s segments, as the worker runs it. Speed is clip seconds divided by
wall seconds (a multiple of real time); the CPU seconds of ffmpeg are counted too.

Serving: the last transcode's files are served by

- ours: one ``mydrtv serve`` process on the embedded PostgreSQL and Redis, with file:// storage;
  the files are stored through the Storage API under the video's generation and the video is
  marked ready, as the worker leaves it;
- nginx: one worker process (``worker_processes 1``), ``sendfile on``, ``access_log off``, the same
  files under the same URL paths; Debian's package is installed when ``nginx`` is missing.

The load is ``wrk`` (Debian's package, installed when missing): it is written in C, so on the two
shared cores it leaves far more CPU to the servers than a Python client would, and it gives latency
percentiles. ``--client python`` uses a plain asyncio HTTP/1.1 keep-alive client in
``--client-processes`` processes instead (also the fallback when wrk cannot be had). Each round
runs, for each server one after the other (the order alternates between rounds):

- whole: GET of every segment of the 720p rendition in turn, ``--connections`` keep-alive
  connections for ``--duration`` seconds;
- range: the same with ``Range: bytes=0-65535`` (206 answers).

Before the rounds, both servers' answers are checked against the files (playlists and 720p
segments byte for byte, a range and its Content-Range, a 304 for If-None-Match). The server's CPU
time per request is read from /proc, so the comparison holds when the client is the bottleneck.
The exit status is 1 when a server answered anything but 2xx or a check failed (the results are
written all the same).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import resource
import shutil
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec
import psutil

from app.settings import Settings
from bench.harness import embedded_settings, latency_summary, write_results
from media.ffmpeg import ffmpeg_binary
from media.probe import MediaInfo, probe
from media.storage import open_storage
from media.storage.base import guess_content_type
from media.testclips import make_test_clip
from media.transcode import HlsOutput, transcode
from media.worker import hls_prefix
from support.services import free_port

GENERATION = "1a1"  # what the worker names a first upload's first attempt
RENDITION = "720p"
NGINX_PACKAGES = ("nginx-light", "nginx")  # nginx-light is gone from Debian 13: then nginx
MB = 1_000_000


# ----------------------------------------------------------------------------------------------
# Transcoding


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def ffmpeg_version() -> str:
    process = await asyncio.create_subprocess_exec(
        ffmpeg_binary(), "-version", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
    )
    out, _ = await process.communicate()
    return out.decode(errors="replace").splitlines()[0] if out else "unknown"


async def transcode_rounds(args: argparse.Namespace, work: Path) -> tuple[dict[str, Any], Path, HlsOutput]:
    """Transcode the clip ``--rounds`` times; the last output stays in ``work`` for serving."""
    clip = work / "clip.mp4"
    started = time.perf_counter()
    await make_test_clip(clip, seconds=args.clip_seconds, width=1280, height=720)
    made = time.perf_counter() - started
    info: MediaInfo = await probe(clip)
    rounds: list[dict[str, Any]] = []
    out = work / "hls"
    output: HlsOutput | None = None
    for n in range(args.rounds):
        if out.exists():
            await asyncio.to_thread(shutil.rmtree, out)
        cpu_before = children_cpu_seconds()
        started = time.perf_counter()
        output = await transcode(clip, out, info, segment_seconds=args.segment_seconds, preset=args.preset)
        wall = time.perf_counter() - started
        cpu = children_cpu_seconds() - cpu_before
        result = {
            "wall_seconds": round(wall, 3),
            "speed_x_realtime": round(info.duration_seconds / wall, 3),
            "ffmpeg_cpu_seconds": round(cpu, 2),
        }
        rounds.append(result)
        print(f"transcode round {n + 1}: {result}", file=sys.stderr, flush=True)
    assert output is not None
    speeds = [r["speed_x_realtime"] for r in rounds]
    sizes = {
        rendition: sum(
            (out / name).stat().st_size for name in output.files if name.startswith(rendition + "/")
        )
        for rendition in output.renditions
    }
    summary = {
        "clip": {
            "seconds": info.duration_seconds,
            "width": info.width,
            "height": info.height,
            "frame_rate": info.frame_rate,
            "video_codec": info.video_codec,
            "audio_codec": info.audio_codec,
            "bytes": clip.stat().st_size,
            "made_in_seconds": round(made, 2),
        },
        "preset": args.preset,
        "segment_seconds": args.segment_seconds,
        "renditions": output.renditions,
        "rendition_bytes": sizes,
        "files": len(output.files),
        "ffmpeg": {"binary": ffmpeg_binary(), "version": await ffmpeg_version()},
        "speed_x_realtime": {
            "median": round(statistics.median(speeds), 2),
            "min": round(min(speeds), 2),
            "max": round(max(speeds), 2),
        },
        "wall_seconds_median": round(statistics.median(r["wall_seconds"] for r in rounds), 2),
        "ffmpeg_cpu_seconds_median": round(statistics.median(r["ffmpeg_cpu_seconds"] for r in rounds), 2),
        # Less sensitive to other load on the machine than the wall time: CPU a second of video costs.
        "ffmpeg_cpu_seconds_per_clip_second": round(
            statistics.median(r["ffmpeg_cpu_seconds"] for r in rounds) / info.duration_seconds, 3
        ),
        "rounds": rounds,
    }
    return summary, out, output


# ----------------------------------------------------------------------------------------------
# Tools from Debian's packages


async def command(*argv: str, within: float = 300) -> tuple[int, str]:
    """Run ``argv``; its exit code and its output (stdout and stderr together)."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=env,
    )
    try:
        out, _ = await asyncio.wait_for(process.communicate(), within)
    except BaseException:
        if process.returncode is None:
            process.kill()
            await process.wait()
        raise
    return process.returncode or 0, out.decode(errors="replace")


def which(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/sbin:/bin")


async def ensure_tool(
    name: str, packages: Sequence[str], allow_install: bool, notes: list[str]
) -> str | None:
    """The path of ``name``, installed with apt-get from the first of ``packages`` that installs
    when it is missing; None (and a note saying why) when it cannot be had."""
    found = which(name)
    if found or not allow_install:
        if not found:
            notes.append(f"{name}: not installed and --no-install given")
        return found
    if os.geteuid() != 0 or not which("apt-get"):
        notes.append(f"{name}: not installed, and apt-get cannot be used here (not root or not Debian)")
        return None
    # The package's postinst may start nginx as a service where nothing stops it (no
    # policy-rc.d): if a service appears, it is stopped again below.
    service_pid = Path("/run/nginx.pid")
    had_service = await asyncio.to_thread(service_pid.exists)
    print(f"installing {name} with apt-get ...", file=sys.stderr, flush=True)
    tail = ""
    for attempt in range(2):
        for package in packages:
            code, output = await command("apt-get", "install", "-y", "-q", "--no-install-recommends", package)
            tail = output.strip().splitlines()[-1] if output.strip() else ""
            if code == 0 and which(name):
                notes.append(f"{name}: installed Debian package {package}")
                started_service = await asyncio.to_thread(service_pid.exists)
                if name == "nginx" and not had_service and started_service:
                    await command(which(name) or name, "-s", "quit", within=30)
                    notes.append("nginx: the package started a service; it was stopped")
                return which(name)
        if attempt == 0:
            await command("apt-get", "update", "-q")
    notes.append(f"{name}: apt-get install {' or '.join(packages)} failed: {tail}")
    return None


# ----------------------------------------------------------------------------------------------
# Servers


class Target(msgspec.Struct):
    name: str
    base_url: str
    root_pid: int

    def pids(self) -> list[int]:
        """The server's processes: for nginx the master and its worker."""
        try:
            root = psutil.Process(self.root_pid)
            return [root.pid, *(child.pid for child in root.children(recursive=True))]
        except psutil.NoSuchProcess:
            return []

    def cpu_seconds(self) -> float:
        total = 0.0
        for pid in self.pids():
            with contextlib.suppress(psutil.NoSuchProcess):
                times = psutil.Process(pid).cpu_times()
                total += times.user + times.system
        return total


async def stop_process(process: asyncio.subprocess.Process, sig: int = signal.SIGTERM) -> None:
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(sig)
        try:
            await asyncio.wait_for(process.wait(), 30)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()


async def wait_until_serving(process: asyncio.subprocess.Process, url: str, log: Path) -> None:
    """Poll ``url`` until it answers 200; fail with the log's tail if the process exits first."""
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient(timeout=5) as http:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                break
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(url)).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    tail = "".join((await asyncio.to_thread(log.read_text, errors="replace")).splitlines(True)[-30:])
    raise RuntimeError(f"{url} is not served (exit code {process.returncode}):\n{tail}")


def server_env(settings: Settings) -> dict[str, str]:
    """The environment that gives a ``mydrtv`` child process exactly ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MYDRTV_")}
    for name, value in msgspec.structs.asdict(settings).items():
        env[f"MYDRTV_{name.upper()}"] = str(value)
    return env


@asynccontextmanager
async def our_server(
    settings: Settings, out: Path, files: list[str], work: Path, log_level: str, probe_path: str
) -> AsyncIterator[tuple[Target, str]]:
    """One ``mydrtv serve`` process serving a ready public video made of the files in ``out``."""
    video_id = uuid.uuid4()
    storage_url = f"file://{work / 'storage'}"
    storage = open_storage(storage_url)
    try:
        for name in files:
            await storage.put_file(
                hls_prefix(video_id, GENERATION) + name, out / name, guess_content_type(name)
            )
    finally:
        await storage.close()
    connection = await asyncpg.connect(settings.database_url)
    try:
        owner = uuid.uuid4()
        await connection.execute(
            "INSERT INTO users (id, handle) VALUES ($1, $2)", owner, f"bench_{owner.hex[:8]}"
        )
        await connection.execute(
            "INSERT INTO videos (id, owner_id, title, visibility, status, media_generation)"
            " VALUES ($1, $2, 'bench media', 'public', 'ready', $3)",
            video_id,
            owner,
            GENERATION,
        )
    finally:
        await connection.close()
    port = free_port()
    configured = msgspec.structs.replace(
        settings, port=port, storage_url=storage_url, media_worker=False, log_level=log_level
    )
    log = work / "mydrtv-serve.log"
    log_file = await asyncio.to_thread(open, log, "wb")
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "app.cli",
            "serve",
            env=server_env(configured),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log_file,
            stderr=log_file,
        )
    finally:
        await asyncio.to_thread(log_file.close)
    try:
        base = f"http://127.0.0.1:{port}"
        prefix = f"/media/{video_id}/{GENERATION}/"
        await wait_until_serving(process, base + prefix + probe_path, log)
        yield Target("ours", base, process.pid), prefix
    finally:
        await stop_process(process)


# nginx's own defaults but for sendfile, the access log and keep-alive. Not Debian's
# ``tcp_nopush on``: on loopback it cost nginx about a third of its throughput here and put
# 40 ms (delayed-ACK) stalls into its p99 of small range answers.
NGINX_CONF = """\
daemon off;
master_process on;
worker_processes 1;
{user}
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{
    worker_connections 4096;
}}
http {{
    types {{
        application/vnd.apple.mpegurl m3u8;
        video/mp2t ts;
        image/jpeg jpg;
    }}
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    keepalive_timeout 75s;
    keepalive_requests 1000000;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        location /media/ {{
            add_header Cache-Control "public, max-age=31536000, immutable";
        }}
    }}
}}
"""


@asynccontextmanager
async def nginx_server(
    binary: str, out: Path, prefix_path: str, work: Path, probe_path: str
) -> AsyncIterator[Target]:
    """nginx in the foreground with a configuration of its own, the files under ``prefix_path``."""
    root = work / "www"
    prefix = work / "nginx"
    await asyncio.to_thread(shutil.copytree, out, root / prefix_path.strip("/"))
    await asyncio.to_thread(prefix.mkdir)
    port = free_port()
    # A root master's worker runs as nobody, which may not enter the private temporary directory.
    user = "user root;" if os.geteuid() == 0 else ""
    config = prefix / "nginx.conf"
    text = NGINX_CONF.format(user=user, prefix=prefix, port=port, root=root)
    await asyncio.to_thread(config.write_text, text)
    log = prefix / "error.log"
    process = await asyncio.create_subprocess_exec(
        binary,
        "-p",
        str(prefix),
        "-e",
        str(log),
        "-c",
        str(config),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        await wait_until_serving(process, base + prefix_path + probe_path, log)
        yield Target("nginx", base, process.pid)
    finally:
        await stop_process(process, signal.SIGQUIT)


async def nginx_version(binary: str) -> str:
    _, output = await command(binary, "-v", within=30)
    return output.strip()


async def wrk_version(binary: str) -> str:
    _, output = await command(binary, "-v", within=30)
    return output.strip().splitlines()[0] if output.strip() else "unknown"


# ----------------------------------------------------------------------------------------------
# Checks


async def verify(target: Target, prefix: str, out: Path, files: list[str], range_bytes: int) -> list[str]:
    """Problems with ``target``'s answers: every playlist and the 720p segments byte for byte,
    a range of one, and a conditional request; an empty list when all is well."""
    problems: list[str] = []
    names = [name for name in files if name.endswith(".m3u8") or name.startswith(RENDITION + "/")]
    async with httpx.AsyncClient(base_url=target.base_url, timeout=30) as http:
        for name in names:
            data = await asyncio.to_thread((out / name).read_bytes)
            answer = await http.get(prefix + name)
            if answer.status_code != 200 or answer.content != data:
                problems.append(
                    f"{target.name}: GET {name}: {answer.status_code}, body differs from the file"
                )
        segment = next(name for name in names if name.endswith(".ts"))
        data = await asyncio.to_thread((out / segment).read_bytes)
        answer = await http.get(prefix + segment, headers={"Range": f"bytes=0-{range_bytes - 1}"})
        expected_range = f"bytes 0-{min(range_bytes, len(data)) - 1}/{len(data)}"
        if (
            answer.status_code != 206
            or answer.content != data[:range_bytes]
            or answer.headers.get("content-range") != expected_range
        ):
            problems.append(
                f"{target.name}: range of {segment}: {answer.status_code}"
                f" {answer.headers.get('content-range')!r}, expected 206 {expected_range!r}"
            )
        etag = answer.headers.get("etag")
        if etag:
            again = await http.get(prefix + segment, headers={"If-None-Match": etag})
            if again.status_code != 304:
                problems.append(f"{target.name}: If-None-Match {etag}: {again.status_code}, expected 304")
        else:
            problems.append(f"{target.name}: no ETag")
    return problems


# ----------------------------------------------------------------------------------------------
# Load: wrk, or the asyncio client below in worker processes

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
                "bench.media",
                "--load-worker",
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
                if not 200 <= status < 300:
                    totals["non_2xx"] += 1
        except (OSError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            totals["errors"] += 1
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    await asyncio.gather(*(connection(n) for n in range(int(spec["connections"]))))
    print(json.dumps({**totals, "seconds": time.monotonic() - started, "latencies_ms": latencies}))


# ----------------------------------------------------------------------------------------------
# The serving benchmark


def rates(result: dict[str, Any], cpu: float) -> dict[str, Any]:
    seconds = result["seconds"] or float("nan")
    return {
        **result,
        "requests_per_second": round(result["requests"] / seconds, 1),
        "mb_per_second": round(result["bytes"] / seconds / MB, 1),
        "server_cpu_seconds": round(cpu, 2),
        "server_cpu_ms_per_request": round(1000 * cpu / max(1, result["requests"]), 3),
    }


async def serving(
    args: argparse.Namespace, out: Path, output: HlsOutput, work: Path, notes: list[str]
) -> dict[str, Any]:
    tools: dict[str, Any] = {}
    nginx = None if args.no_nginx else await ensure_tool("nginx", NGINX_PACKAGES, not args.no_install, notes)
    if nginx:
        tools["nginx"] = {"binary": nginx, "version": await nginx_version(nginx)}
    else:
        print("WARNING: no nginx; only our server is measured", file=sys.stderr, flush=True)
    wrk: str | None = None
    if args.client in ("auto", "wrk"):
        wrk = await ensure_tool("wrk", ("wrk",), not args.no_install, notes)
        if wrk is None and args.client == "wrk":
            raise SystemExit("wrk is needed for --client wrk and cannot be had: " + notes[-1])
    if wrk:
        tools["client"] = {
            "name": "wrk",
            "binary": wrk,
            "version": await wrk_version(wrk),
            "threads": args.threads,
        }
    else:
        tools["client"] = {"name": "python asyncio", "processes": args.client_processes}
        if args.client == "auto":
            notes.append("wrk could not be had: the load came from the asyncio client instead")
    client_name = tools["client"]["name"]
    for note in notes:
        print(note, file=sys.stderr, flush=True)

    segments = [name for name in output.files if name.startswith(RENDITION + "/") and name.endswith(".ts")]
    sizes = [(out / name).stat().st_size for name in segments]
    probe_path = f"{RENDITION}/index.m3u8"
    rounds: list[dict[str, Any]] = []
    problems: list[str] = []
    async with embedded_settings() as settings, contextlib.AsyncExitStack() as stack:
        ours, prefix = await stack.enter_async_context(
            our_server(settings, out, output.files, work, args.server_log_level, probe_path)
        )
        targets = [ours]
        if nginx:
            targets.append(
                await stack.enter_async_context(nginx_server(nginx, out, prefix, work, probe_path))
            )
        for target in targets:
            problems += await verify(target, prefix, out, output.files, args.range_bytes)
        paths = [prefix + name for name in segments]
        loads = {
            "whole": Load(paths, None, args.connections, args.duration),
            "range": Load(paths, f"bytes=0-{args.range_bytes - 1}", args.connections, args.duration),
        }

        async def measure(target: Target, load: Load) -> dict[str, Any]:
            cpu_before, client_before = target.cpu_seconds(), children_cpu_seconds()
            if wrk:
                result = await wrk_load(wrk, target, load, args.threads, work)
            else:
                result = await python_load(target, load, args.client_processes)
            # Only waited-for children count, so this is the load generator's alone.
            result["client_cpu_seconds"] = round(children_cpu_seconds() - client_before, 2)
            return rates(result, target.cpu_seconds() - cpu_before)

        if args.warmup > 0:
            for target in targets:
                await measure(target, msgspec.structs.replace(loads["whole"], seconds=args.warmup))
        for n in range(args.rounds):
            order = targets if n % 2 == 0 else targets[::-1]
            this_round: dict[str, Any] = {}
            for mode, load in loads.items():
                this_round[mode] = {}
                for target in order:
                    result = await measure(target, load)
                    this_round[mode][target.name] = result
                    print(
                        f"round {n + 1} {mode} {target.name}: {result['requests_per_second']} req/s,"
                        f" {result['mb_per_second']} MB/s, p50 {result['p50_ms']} ms,"
                        f" p99 {result['p99_ms']} ms, errors {result['errors']}, non-2xx {result['non_2xx']}",
                        file=sys.stderr,
                        flush=True,
                    )
            rounds.append(this_round)

    summary: dict[str, Any] = {}
    for mode in ("whole", "range"):
        summary[mode] = {}
        for target in targets:
            runs = [r[mode][target.name] for r in rounds]
            summary[mode][target.name] = {
                key: statistics.median(run[key] for run in runs)
                for key in (
                    "requests_per_second",
                    "mb_per_second",
                    "p50_ms",
                    "p99_ms",
                    "server_cpu_ms_per_request",
                )
            }
        if nginx:
            per_round = [
                r[mode]["ours"]["requests_per_second"] / r[mode]["nginx"]["requests_per_second"]
                for r in rounds
            ]
            cpu = [
                r[mode]["ours"]["server_cpu_ms_per_request"] / r[mode]["nginx"]["server_cpu_ms_per_request"]
                for r in rounds
            ]
            summary[mode]["throughput_ratio_ours_to_nginx_median"] = round(statistics.median(per_round), 3)
            summary[mode]["cpu_per_request_ratio_ours_to_nginx_median"] = round(statistics.median(cpu), 2)
    failures = sum(
        r[mode][name]["errors"] + r[mode][name]["non_2xx"] for r in rounds for mode in r for name in r[mode]
    )
    return {
        "tools": tools,
        "client": client_name,
        "segments": {"rendition": RENDITION, "count": len(segments), "bytes": sizes},
        "connections": args.connections,
        "seconds_per_run": args.duration,
        "range": f"bytes=0-{args.range_bytes - 1}",
        "server_log_level": args.server_log_level,
        "verification_problems": problems,
        "errors_and_non_2xx": failures,
        "summary": summary,
        "rounds": rounds,
    }


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.media",
        description="Transcode speed of a 720p clip, and HLS segment serving beside nginx.",
    )
    parser.add_argument("--clip-seconds", type=float, default=20, help="length of the 720p test clip")
    parser.add_argument("--rounds", type=int, default=3, help="transcodes, and load rounds per server")
    parser.add_argument("--preset", default="veryfast", help="x264 preset of the transcode")
    parser.add_argument("--segment-seconds", type=int, default=4)
    parser.add_argument("--connections", type=int, default=32, help="concurrent keep-alive connections")
    parser.add_argument("--duration", type=int, default=10, help="seconds of each load run")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of load on each server first")
    parser.add_argument("--range-bytes", type=int, default=65536, help="bytes asked for in the range run")
    parser.add_argument(
        "--client",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="load generator: wrk (installed when missing), the asyncio client, or wrk if it can be had",
    )
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--client-processes", type=int, default=2, help="processes of the asyncio client")
    parser.add_argument(
        "--server-log-level",
        default="WARNING",
        help="our server's log level; INFO adds a JSON access log line per request (nginx logs none)",
    )
    parser.add_argument("--no-nginx", action="store_true", help="measure our server only")
    parser.add_argument("--no-install", action="store_true", help="never run apt-get")
    parser.add_argument("--load-worker", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


async def main() -> int:
    args = parse_args()
    if args.load_worker:
        await load_worker(json.loads(args.load_worker))
        return 0
    # SIGTERM unwinds like Ctrl-C, so every server and tool started here is stopped on the way out.
    main_task = asyncio.current_task()
    assert main_task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)
    load_before = os.getloadavg()
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="mydrtv-bench-media-") as tmp:
        work = Path(tmp)
        transcoding, out, output = await transcode_rounds(args, work)
        served = await serving(args, out, output, work, notes)
    load_after = os.getloadavg()
    summary: dict[str, Any] = {
        "transcode_speed_x_realtime": transcoding["speed_x_realtime"],
        "transcode_wall_seconds_median": transcoding["wall_seconds_median"],
        "ffmpeg_cpu_seconds_per_clip_second": transcoding["ffmpeg_cpu_seconds_per_clip_second"],
        "ffmpeg": transcoding["ffmpeg"]["version"],
        "client": served["client"],
        **{f"serving_{mode}": value for mode, value in served["summary"].items()},
        "errors_and_non_2xx": served["errors_and_non_2xx"],
        "verification_problems": served["verification_problems"],
    }
    command = ("python -m bench.media " + " ".join(sys.argv[1:])).strip()
    path = write_results(
        "media",
        command,
        {
            "settings": {k: v for k, v in vars(args).items() if k != "load_worker"},
            "machine": {
                "python": sys.version.split()[0],
                "platform": platform.platform(),
                "cpus": os.cpu_count(),
                "cpu_model": cpu_model(),
                "load_average_before": [round(x, 2) for x in load_before],
                "load_average_after": [round(x, 2) for x in load_after],
            },
            "notes": notes,
            "summary": summary,
            "transcode": transcoding,
            "serving": served,
        },
    )
    print(json.dumps(summary, indent=2))
    print(f"written to {path}", file=sys.stderr)
    return 1 if served["errors_and_non_2xx"] or served["verification_problems"] else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

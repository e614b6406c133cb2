"""The serving half of ``bench.media``: the transcoded files served by one ``mydrtv serve`` and by
nginx side by side, checked against the files, then loaded (whole segments and ranges) in rounds
that alternate the servers' order."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import statistics
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec

from app.videos.media.worker import hls_prefix
from bench.debian import ensure_tool
from bench.harness import children_cpu_seconds, embedded_settings
from bench.http_load import Load, python_load, wrk_load, wrk_version
from bench.nginx import NGINX_PACKAGES, nginx_server, nginx_version
from bench.targets import Target, stop_process, wait_until_serving
from core.settings import Settings
from media.storage import open_storage
from media.storage.base import guess_content_type
from media.transcode import HlsOutput
from support.nginx import front_config, nginx
from support.people import person
from support.processes import settings_env
from support.s3_server import moto_server
from support.s3_server import storage_url as s3_storage_url
from support.services import free_port

ACCEL = "/_mydrtv_media/"  # the internal location of deploy/nginx/mydrtv.conf
# The secure-link arm's secret (MYDRTV_MEDIA_SECURE_LINK_SECRET and the nginx map), and a link
# lifetime longer than any run, so the links playback gives at the start work to the end.
LINK_SECRET = "bench-secure-link-" + "5f0e" * 8
LINK_SECONDS = 6 * 3600
AUTH_REQUEST = "ours+nginx"
SECURE_LINK = "ours+nginx secure_link"
FRONTED = (AUTH_REQUEST, SECURE_LINK)
GENERATION = "1a1"  # what the worker names a first upload's first attempt
RENDITION = "720p"
MB = 1_000_000


@asynccontextmanager
async def our_server(
    settings: Settings, out: Path, files: list[str], work: Path, log_level: str, probe_path: str
) -> AsyncIterator[tuple[Target, str]]:
    """One ``mydrtv serve`` process serving a ready public video made of the files in ``out``."""
    video_id = await seed(settings, (work / "storage").as_uri(), out, files)
    async with serve_process(settings, work / "storage", work, log_level, "ours") as (process, base, log):
        prefix = f"/media/{video_id}/{GENERATION}/"
        await wait_until_serving(process, base + prefix + probe_path, log)
        yield Target("ours", base, process.pid), prefix


@asynccontextmanager
async def s3_redirecting(
    settings: Settings, out: Path, files: list[str], work: Path, log_level: str, probe_path: str
) -> AsyncIterator[tuple[Target, str]]:
    """``mydrtv serve`` on S3 (moto's server) with ``media_redirect``: segments are answered with a
    redirect to a presigned URL, so no segment byte passes through the server."""
    with moto_server(work / "moto") as endpoint:
        url = s3_storage_url(endpoint, "bench-media")
        storage = open_storage(url)
        try:
            await storage.ensure_bucket()  # type: ignore[attr-defined]
        finally:
            await storage.close()
        video_id = await seed(settings, url, out, files)
        configured = msgspec.structs.replace(settings, media_redirect=True)
        async with serve_process(configured, work / "unused", work, log_level, "s3", storage_url=url) as (
            process,
            base,
            log,
        ):
            prefix = f"/media/{video_id}/{GENERATION}/"
            await wait_until_serving(process, base + prefix + probe_path, log)
            yield Target("ours on S3, redirecting", base, process.pid), prefix


async def seed(settings: Settings, storage_url: str, out: Path, files: list[str]) -> uuid.UUID:
    """A ready public video whose first generation is the files in ``out``."""
    video_id = uuid.uuid4()
    storage = open_storage(storage_url)
    try:
        for name in files:
            await storage.put_file(
                hls_prefix(video_id, GENERATION) + name, out / name, guess_content_type(name)
            )
    finally:
        await storage.close()
    owner = await person(settings)
    connection = await asyncpg.connect(settings.database_url)
    try:
        await connection.execute(
            "INSERT INTO videos (id, owner_id, title, visibility, status, media_generation)"
            " VALUES ($1, $2, 'bench media', 'public', 'ready', $3)",
            video_id,
            owner.id,
            GENERATION,
        )
    finally:
        await connection.close()
    return video_id


@asynccontextmanager
async def serve_process(
    settings: Settings,
    root: Path,
    work: Path,
    log_level: str,
    name: str,
    accel: str = "",
    storage_url: str = "",
    link_secret: str = "",
) -> AsyncIterator[tuple[asyncio.subprocess.Process, str, Path]]:
    """``mydrtv serve`` on the media under ``root`` (or ``storage_url``): sending the bytes itself,
    or with ``accel`` answering with X-Accel-Redirect to that nginx location; with
    ``link_secret``, playback hands out secure links."""
    port = free_port()
    configured = msgspec.structs.replace(
        settings,
        port=port,
        storage_url=storage_url or root.as_uri(),
        media_worker=False,
        log_level=log_level,
        media_accel_redirect=accel,
        media_secure_link_secret=link_secret,
        media_secure_link_seconds=LINK_SECONDS,
    )
    log = work / f"mydrtv-serve-{name.replace(' ', '-')}.log"
    log_file = await asyncio.to_thread(open, log, "wb")
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "server.cli",
            "serve",
            env=settings_env(configured),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log_file,
            stderr=log_file,
        )
    finally:
        await asyncio.to_thread(log_file.close)
    try:
        yield process, f"http://127.0.0.1:{port}", log
    finally:
        await stop_process(process)


def shm_dir(work: Path) -> Path:
    """The authorization cache on a tmpfs, as deploy/nginx/mydrtv.conf advises; else beside work."""
    shm = Path("/dev/shm")
    return shm / f"mydrtv-bench-{work.name}" if shm.is_dir() else work / "nginx-cache"


@asynccontextmanager
async def behind_nginx(
    binary: str, settings: Settings, work: Path, log_level: str, probe: str
) -> AsyncIterator[tuple[Target, Target, str]]:
    """Our server behind nginx as ``deploy/nginx/mydrtv.conf`` sets it up, with secure links on:
    the plain URLs are authorized by the server (auth_request) and sent by nginx; the secure links
    playback hands out are checked and sent by nginx alone. Both serve the files the plain server
    serves; yields the two as targets, and the secure links' prefix of the video in ``probe``."""
    async with serve_process(
        settings, work / "storage", work, log_level, "accel", ACCEL, link_secret=LINK_SECRET
    ) as (process, base, log):
        await wait_until_serving(process, base + "/health/live", log)
        port = free_port()
        cache = shm_dir(work)
        http = front_config(int(base.rpartition(":")[2]), port, work / "storage", cache, LINK_SECRET)
        front = f"http://127.0.0.1:{port}"
        try:
            async with nginx(binary, http, work / "nginx-front", front + probe) as pid:
                video_id = probe.split("/")[2]
                async with httpx.AsyncClient(base_url=front, timeout=30) as http_client:
                    playback = await http_client.get(f"/videos/{video_id}/playback")
                playback.raise_for_status()
                link_prefix = playback.json()["master_url"].removesuffix("master.m3u8")
                yield (
                    Target(AUTH_REQUEST, front, pid, process.pid),
                    Target(SECURE_LINK, front, pid, process.pid),
                    link_prefix,
                )
        finally:
            await asyncio.to_thread(shutil.rmtree, cache, True)


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


async def verify_redirect(target: Target, prefix: str, out: Path, segment: str) -> list[str]:
    """The redirecting server answers a segment with 302 to a URL that serves the file's bytes."""
    async with httpx.AsyncClient(timeout=30) as http:
        answer = await http.get(target.base_url + prefix + segment)
        if answer.status_code != 302:
            return [f"{target.name}: GET {segment}: {answer.status_code}, expected 302"]
        followed = await http.get(answer.headers["location"])
        data = await asyncio.to_thread((out / segment).read_bytes)
        if followed.status_code != 200 or followed.content != data:
            return [f"{target.name}: the presigned URL of {segment} gave {followed.status_code}"]
    return []


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
        prefixes = {ours.name: prefix}  # the URL prefix of the video's files, per target
        if nginx:
            reference = await stack.enter_async_context(nginx_server(nginx, out, prefix, work, probe_path))
            auth_request, secure_link, link_prefix = await stack.enter_async_context(
                behind_nginx(nginx, settings, work, args.server_log_level, prefix + probe_path)
            )
            targets += [reference, auth_request, secure_link]
            prefixes |= {reference.name: prefix, AUTH_REQUEST: prefix, SECURE_LINK: link_prefix}
        for target in targets:
            problems += await verify(target, prefixes[target.name], out, output.files, args.range_bytes)
        ranges = {"whole": None, "range": f"bytes=0-{args.range_bytes - 1}"}

        def load_of(mode: str, target: Target, seconds: int) -> Load:
            paths = [prefixes[target.name] + name for name in segments]
            return Load(paths, ranges[mode], args.connections, seconds)

        async def measure(target: Target, load: Load) -> dict[str, Any]:
            cpu_before, client_before = target.cpu_seconds(), children_cpu_seconds()
            upstream_before = target.upstream_cpu_seconds()
            if wrk:
                result = await wrk_load(wrk, target, load, args.threads, work)
            else:
                result = await python_load(target, load, args.client_processes)
            # Only waited-for children count, so this is the load generator's alone.
            result["client_cpu_seconds"] = round(children_cpu_seconds() - client_before, 2)
            if target.upstream_pid is not None:  # our server behind nginx: apart from nginx's
                result["upstream_cpu_seconds"] = round(target.upstream_cpu_seconds() - upstream_before, 3)
            return rates(result, target.cpu_seconds() - cpu_before)

        if args.warmup > 0:
            for target in targets:
                await measure(target, load_of("whole", target, args.warmup))
        for n in range(args.rounds):
            order = targets if n % 2 == 0 else targets[::-1]
            this_round: dict[str, Any] = {}
            for mode in ranges:
                this_round[mode] = {}
                for target in order:
                    result = await measure(target, load_of(mode, target, args.duration))
                    this_round[mode][target.name] = result
                    print(
                        f"round {n + 1} {mode} {target.name}: {result['requests_per_second']} req/s,"
                        f" {result['mb_per_second']} MB/s, p50 {result['p50_ms']} ms,"
                        f" p99 {result['p99_ms']} ms, errors {result['errors']}, non-2xx {result['non_2xx']}",
                        file=sys.stderr,
                        flush=True,
                    )
            rounds.append(this_round)

        redirects: dict[str, Any] = {}
        if not args.no_s3:
            # S3 with redirects: each segment request is answered with a presigned URL, so what
            # is measured is redirects per second (the bytes come from S3 or a CDN).
            s3, s3_prefix = await stack.enter_async_context(
                s3_redirecting(settings, out, output.files, work, args.server_log_level, probe_path)
            )
            problems += await verify_redirect(s3, s3_prefix, out, segments[0])
            load = Load([s3_prefix + name for name in segments], None, args.connections, args.duration)
            await measure(s3, msgspec.structs.replace(load, seconds=max(1, args.warmup)))
            runs = [await measure(s3, load) for _ in range(args.rounds)]
            redirects = {
                "runs": runs,
                "redirects_per_second_median": statistics.median(r["requests_per_second"] for r in runs),
                "p99_ms_median": statistics.median(r["p99_ms"] for r in runs),
                "server_cpu_ms_per_redirect_median": statistics.median(
                    r["server_cpu_ms_per_request"] for r in runs
                ),
            }
            print(f"S3 redirects: {redirects['redirects_per_second_median']} /s", file=sys.stderr, flush=True)

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
            if target.upstream_pid is not None:
                summary[mode][target.name]["upstream_cpu_seconds"] = statistics.median(
                    run["upstream_cpu_seconds"] for run in runs
                )
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
            for name, key in zip(FRONTED, ("behind_nginx", "behind_nginx_secure_link"), strict=True):
                fronted = [
                    r[mode][name]["requests_per_second"] / r[mode]["nginx"]["requests_per_second"]
                    for r in rounds
                ]
                summary[mode][f"throughput_ratio_ours_{key}_to_nginx_median"] = round(
                    statistics.median(fronted), 3
                )
                summary[mode][f"throughput_ratio_ours_{key}_to_nginx_per_round"] = [
                    round(ratio, 3) for ratio in fronted
                ]
    failures = sum(
        r[mode][name]["errors"] + r[mode][name]["non_2xx"] for r in rounds for mode in r for name in r[mode]
    )
    if redirects:
        summary["s3_redirects"] = {k: v for k, v in redirects.items() if k != "runs"}
    return {
        "s3_redirects": redirects,
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

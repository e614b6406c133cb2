"""The transcode half of ``bench.media``: a synthetic 720p clip through ``transcode()`` as the
worker runs it, a number of rounds; speed as a multiple of real time and ffmpeg's CPU seconds."""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench.harness import children_cpu_seconds
from media.ffmpeg import ffmpeg_binary
from media.probe import MediaInfo, probe
from media.testclips import make_test_clip
from media.transcode import HlsOutput, transcode


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

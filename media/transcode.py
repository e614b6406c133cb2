"""Transcoding a probed upload into an HLS ladder and a poster.

One ffmpeg run decodes the source once and encodes every rendition (split, then scale per
rendition), so a 1080p upload is decoded once rather than five times. Keyframes are forced at the
same instants in every rendition, so segment boundaries line up and a player can switch renditions
between any two segments.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import ffmpeg
import msgspec

from media.ffmpeg import FfmpegFailed, require_encoders, run
from media.probe import MediaInfo, input_options


class Rendition(msgspec.Struct, frozen=True):
    name: str
    height: int  # the shorter side: a portrait 720p rendition is 720 wide
    video_kbps: int
    audio_kbps: int


LADDER: tuple[Rendition, ...] = (
    Rendition("240p", 240, 400, 64),
    Rendition("360p", 360, 800, 96),
    Rendition("480p", 480, 1400, 128),
    Rendition("720p", 720, 2800, 128),
    Rendition("1080p", 1080, 5000, 160),
)


class HlsOutput(msgspec.Struct, frozen=True):
    master: str  # relative to out_dir
    renditions: list[str]
    poster: str
    files: list[str]  # every file in out_dir, relative and '/'-separated


MASTER = "master.m3u8"
POSTER = "poster.jpg"
_PROGRESS_INTERVAL = 0.25  # seconds between progress callbacks
# Errors only on stderr; machine-readable progress blocks on stdout instead of the status line.
_PROGRESS_ARGS = ("-loglevel", "error", "-nostats", "-progress", "pipe:1")


def ladder_for(info: MediaInfo) -> list[Rendition]:
    """The renditions no larger than the source, judged by its shorter side.

    Ranking by the shorter side treats a portrait phone clip (720x1280) like its landscape twin:
    both get 240p to 720p. A source smaller than the lowest rung gets one rendition of its own
    size (rounded down to even, as H.264 in 4:2:0 needs), with a bitrate scaled by pixel count.
    """
    short = min(info.width, info.height)
    fitting = [rendition for rendition in LADDER if rendition.height <= short]
    if fitting:
        return fitting
    lowest = LADDER[0]
    height = max(2, short - short % 2)
    video_kbps = max(64, round(lowest.video_kbps * (height / lowest.height) ** 2))
    return [Rendition(f"{height}p", height, video_kbps, lowest.audio_kbps)]


async def transcode(
    source: Path,
    out_dir: Path,
    info: MediaInfo,
    *,
    segment_seconds: int = 4,
    preset: str = "veryfast",
    on_progress: Callable[[float], Awaitable[None]] | None = None,
) -> HlsOutput:
    """Write ``master.m3u8``, one directory of segments per rendition and ``poster.jpg`` to
    ``out_dir`` (which should be empty; on ``FfmpegFailed`` the caller discards it)."""
    await require_encoders("libx264", "aac", "mjpeg")
    ladder = ladder_for(info)
    await asyncio.to_thread(_make_directories, out_dir, ladder)
    source = await asyncio.to_thread(source.resolve)
    # ffmpeg runs inside out_dir, so the names below are relative and a '%' in out_dir's path
    # cannot be mistaken for part of the segment name template.
    progress = _Progress(info.duration_seconds, on_progress)
    await run(
        [*_PROGRESS_ARGS, *_ladder_args(source, info, ladder, segment_seconds, preset)],
        cwd=out_dir,
        on_stdout_line=progress.line,
    )
    await asyncio.to_thread(_check_complete, out_dir / ladder[-1].name / "index.m3u8", info.duration_seconds)
    await _poster(source, out_dir, info, ladder[-1])
    if on_progress:
        await on_progress(1.0)
    files = await asyncio.to_thread(_files, out_dir)
    return HlsOutput(master=MASTER, renditions=[r.name for r in ladder], poster=POSTER, files=files)


def _ladder_args(
    source: Path, info: MediaInfo, ladder: list[Rendition], segment_seconds: int, preset: str
) -> list[str]:
    media = ffmpeg.input(str(source), **input_options())
    # "V" rather than "v": video streams that are not cover art.
    pictures = media["V:0"].filter_multi_output("split", len(ladder))
    streams: list[Any] = []
    options: dict[str, Any] = {}
    stream_map = []
    for index, rendition in enumerate(ladder):
        streams.append(pictures[index].filter("scale", *_size(info, rendition)))
        options[f"b:v:{index}"] = f"{rendition.video_kbps}k"
        options[f"maxrate:v:{index}"] = f"{rendition.video_kbps * 11 // 10}k"
        options[f"bufsize:v:{index}"] = f"{rendition.video_kbps * 2}k"
        entry = f"v:{index}"
        if info.audio_codec:
            # Every rendition carries the audio, so the master playlist lists both codecs.
            streams.append(media["a:0"])
            options[f"b:a:{index}"] = f"{rendition.audio_kbps}k"
            entry += f",a:{index}"
        stream_map.append(f"{entry},name:{rendition.name}")
    gop = round((info.frame_rate or 25) * segment_seconds)
    if info.audio_codec:
        options.update({"c:a": "aac", "ac": 2, "ar": 48000})
    output = ffmpeg.output(
        *streams,
        "%v/index.m3u8",
        f="hls",
        **{
            "c:v": "libx264",
            "preset": preset,
            "pix_fmt": "yuv420p",
            "g": gop,
            "keyint_min": gop,
            "sc_threshold": 0,
            "force_key_frames": f"expr:gte(t,n_forced*{segment_seconds})",
            # Uploads carry camera metadata (location, device); none of it is republished.
            "map_metadata": -1,
            "map_chapters": -1,
            "hls_time": segment_seconds,
            "hls_playlist_type": "vod",
            "hls_flags": "independent_segments",
            "hls_segment_filename": "%v/seg_%05d.ts",
            "master_pl_name": MASTER,
            "var_stream_map": " ".join(stream_map),
            **options,
        },
    )
    return list(output.overwrite_output().get_args())


def _make_directories(out_dir: Path, ladder: list[Rendition]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for rendition in ladder:
        (out_dir / rendition.name).mkdir(exist_ok=True)


def _files(out_dir: Path) -> list[str]:
    return sorted(path.relative_to(out_dir).as_posix() for path in out_dir.rglob("*") if path.is_file())


def _check_complete(playlist: Path, expected: float) -> None:
    """ffmpeg exits 0 when a truncated upload runs out early; a short video is still a failure."""
    written = sum(
        float(match) for match in re.findall(r"^#EXTINF:([\d.]+),", playlist.read_text(), re.MULTILINE)
    )
    if written < expected - max(1.0, expected * 0.05):
        raise FfmpegFailed(
            f"only {written:.1f} s of {expected:.1f} s could be transcoded: the file is truncated or corrupt"
        )


def _size(info: MediaInfo, rendition: Rendition) -> tuple[int, int]:
    """``scale`` arguments: the shorter side becomes the rendition's height, the other stays even."""
    return (-2, rendition.height) if info.width >= info.height else (rendition.height, -2)


async def _poster(source: Path, out_dir: Path, info: MediaInfo, top: Rendition) -> None:
    """One frame about 10% in (at most 1 s), as large as the top rendition."""
    at = min(info.duration_seconds * 0.1, 1.0)
    output = (
        ffmpeg.input(str(source), ss=f"{at:.3f}", **input_options())["V:0"]
        .filter("scale", *_size(info, top))
        .output(POSTER, **{"frames:v": 1, "q:v": 3, "update": 1, "map_metadata": -1})
        .overwrite_output()
    )
    await run(["-loglevel", "error", *output.get_args()], cwd=out_dir)
    if not await asyncio.to_thread((out_dir / POSTER).is_file):
        raise FfmpegFailed(f"ffmpeg wrote no poster frame at {at:.3f} s")


class _Progress:
    """Turns ``-progress`` blocks into fractions of the duration, at most every 0.25 s."""

    def __init__(self, duration: float, callback: Callable[[float], Awaitable[None]] | None) -> None:
        self.duration = duration
        self.callback = callback
        self.position = 0.0
        self.reported = 0.0
        self.reported_at = 0.0

    async def line(self, line: str) -> None:
        key, _, value = line.partition("=")
        if key in ("out_time_us", "out_time_ms") and value.isdigit():
            # out_time_ms is in microseconds too (a long-standing ffmpeg quirk).
            self.position = int(value) / 1_000_000
        elif key == "progress" and value == "continue" and self.callback:
            # Only while ffmpeg is still working; the caller reports 1.0 once everything is done.
            fraction = min(self.position / self.duration, 0.99) if self.duration > 0 else 0.0
            now = time.monotonic()
            if fraction > self.reported and now - self.reported_at >= _PROGRESS_INTERVAL:
                self.reported, self.reported_at = fraction, now
                await self.callback(fraction)

"""Synthetic clips from ffmpeg's own test sources, for tests, demo seeding and benchmarks.

Generating clips keeps binary fixtures out of the repository and lets each caller pick the size,
length and codec it needs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ffmpeg

from media.ffmpeg import run

# Settings that make each encoder quick; quality does not matter for a test pattern.
_FAST: dict[str, dict[str, Any]] = {
    "libx264": {"preset": "veryfast", "pix_fmt": "yuv420p"},
    "libvpx-vp9": {"deadline": "realtime", "cpu-used": 8, "pix_fmt": "yuv420p"},
    "libvpx": {"deadline": "realtime", "cpu-used": 8, "pix_fmt": "yuv420p"},
}
# Audio codecs by container (from the file name); anything else gets AAC.
_AUDIO = {".webm": "libopus", ".mkv": "libopus", ".ogg": "libvorbis", ".avi": "libmp3lame"}


async def make_test_clip(
    path: Path,
    *,
    seconds: float,
    width: int,
    height: int,
    audio: bool = True,
    pattern: str = "testsrc2",
    fps: int = 25,
    codec: str = "libx264",
) -> None:
    """Write a clip of a lavfi test pattern (and a 440 Hz tone); the container follows the suffix."""
    streams = [ffmpeg.input(f"{pattern}=size={width}x{height}:rate={fps}:duration={seconds}", f="lavfi")]
    options: dict[str, Any] = {"c:v": codec, **_FAST.get(codec, {})}
    if audio:
        streams.append(ffmpeg.input(f"sine=frequency=440:sample_rate=48000:duration={seconds}", f="lavfi"))
        options["c:a"] = _AUDIO.get(path.suffix, "aac")
    if path.suffix in (".mp4", ".mov"):
        options["movflags"] = "+faststart"
    output = ffmpeg.output(*streams, str(path), **options).overwrite_output()
    await run(["-loglevel", "error", *output.get_args()])

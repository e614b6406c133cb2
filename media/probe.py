"""What an uploaded file is, and whether we will transcode it.

The wheel's ffmpeg comes without ffprobe, so we probe with ``ffmpeg -i <file>`` and read the
description it prints on stderr. That is the only code path, even where an ffprobe exists, so what
the tests exercise is what production runs.

Uploads are hostile input: ffmpeg may open them only with the demuxers of common video containers
and only as local files. That keeps playlists (``.m3u8``, ``concat``) that point at other files or
URLs out, and turns images, audio and text into ``not_a_video`` before any codec is looked at.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import msgspec

from media.ffmpeg import run

# Demuxer names as ffmpeg spells them; "mov" covers mp4/m4v/3gp, "matroska" covers webm.
DEMUXERS = ("mov", "matroska", "avi", "mpegts", "mpeg", "flv", "ogg", "asf")

# Common codecs the bundled ffmpeg decodes.
VIDEO_CODECS = frozenset(
    {
        "h264",
        "hevc",
        "vp8",
        "vp9",
        "av1",
        "mpeg4",
        "mpeg1video",
        "mpeg2video",
        "prores",
        "theora",
        "vc1",
        "wmv3",
        "mjpeg",
    }
)


def input_options() -> dict[str, str]:
    """The options every ffmpeg run that reads an upload puts before its ``-i``."""
    return {"protocol_whitelist": "file", "format_whitelist": ",".join(DEMUXERS)}


class MediaInfo(msgspec.Struct, frozen=True):
    duration_seconds: float
    width: int  # as displayed: a rotation in the container's display matrix is applied
    height: int
    video_codec: str
    frame_rate: float | None
    audio_codec: str | None  # None when there is no audio stream
    container: str  # e.g. "mov,mp4,m4a,3gp,3g2,mj2" or "matroska,webm"


class MediaRejected(Exception):
    """The file is not a playable video; ``code`` is machine-readable, ``str(self)`` says why.

    Codes: ``not_a_video`` (unreadable, not a video container, no video stream or only cover art),
    ``unsupported_codec``, ``no_duration`` (a stream that does not say how long it is).
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


async def probe(path: Path) -> MediaInfo:
    # strict: a missing file is our own mistake and must not come back as "not a video".
    source = await asyncio.to_thread(path.resolve, True)
    options = [arg for name, value in input_options().items() for arg in (f"-{name}", value)]
    # With an input and no output ffmpeg describes the input, then exits 1 asking for an output.
    completed = await run([*options, "-i", str(source)], check=False)
    return describe(completed.stderr)


_INPUT = re.compile(r"^Input #0, (?P<container>.+?), from '")
_DURATION = re.compile(r"^\s+Duration: (?:N/A|(?P<h>\d+):(?P<m>\d\d):(?P<s>\d\d(?:\.\d+)?))")
_STREAM = re.compile(r"^\s+Stream #0:\d+\S*: (?P<kind>\w+): (?P<codec>[^\s,]+)(?P<rest>.*)$")
_SIZE = re.compile(r"^(?P<w>\d+)x(?P<h>\d+)\b")
_FPS = re.compile(r"^(?P<value>\d+(?:\.\d+)?)(?P<k>k?) fps$")
_ROTATION = re.compile(r"rotation of (?P<degrees>-?\d+(?:\.\d+)?) degrees", re.IGNORECASE)


class _Stream(msgspec.Struct):
    kind: str
    codec: str
    rest: str
    side_data: list[str] = msgspec.field(default_factory=list)


def describe(stderr: str) -> MediaInfo:
    """Parse ffmpeg's description of input #0 (the text ``ffmpeg -i`` prints) or reject it."""
    container: str | None = None
    duration: float | None = None
    streams: list[_Stream] = []
    for line in stderr.splitlines():
        if match := _INPUT.match(line):
            container = match["container"]
        elif container is None:
            continue
        elif match := _DURATION.match(line):
            duration = (
                None
                if match["h"] is None
                else int(match["h"]) * 3600 + int(match["m"]) * 60 + float(match["s"])
            )
        elif match := _STREAM.match(line):
            streams.append(_Stream(kind=match["kind"], codec=match["codec"], rest=match["rest"]))
        elif streams:
            streams[-1].side_data.append(line)
    if container is None:
        errors = [line.strip() for line in stderr.splitlines() if line.strip()]
        if any("Format not on whitelist" in line for line in errors):
            raise MediaRejected(
                "not_a_video", "not a video container we accept (mp4, mov, mkv, webm, avi, ts, ...)"
            )
        raise MediaRejected(
            "not_a_video", "ffmpeg cannot read it: " + (errors[-1] if errors else "no output")
        )

    # Cover art in an audio (or video) file is a one-frame "video" stream; it does not count.
    videos = [s for s in streams if s.kind == "Video" and "(attached pic)" not in s.rest]
    if not videos:
        raise MediaRejected("not_a_video", "it has no video stream")
    video = videos[0]
    if video.codec not in VIDEO_CODECS:
        raise MediaRejected("unsupported_codec", f"video codec {video.codec} is not supported")
    if not duration:
        raise MediaRejected("no_duration", "the file does not say how long it is")
    width, height, frame_rate = _picture(video)
    if any(
        abs(round(float(m["degrees"]))) % 180 == 90
        for line in video.side_data
        if (m := _ROTATION.search(line))
    ):
        width, height = height, width
    audio = next((s.codec for s in streams if s.kind == "Audio"), None)
    return MediaInfo(
        duration_seconds=duration,
        width=width,
        height=height,
        video_codec=video.codec,
        frame_rate=frame_rate,
        audio_codec=audio,
        container=container,
    )


def _picture(video: _Stream) -> tuple[int, int, float | None]:
    """Size and frame rate from "…, yuv420p(tv, progressive), 320x240 [SAR 1:1 DAR 4:3], 25 fps, …"."""
    width = height = 0
    frame_rate: float | None = None
    parts = _top_level_parts(video.rest)
    if "none" in parts:
        # No pixel format: ffmpeg found the stream's header but could not read a frame of it.
        raise MediaRejected("not_a_video", "its video cannot be decoded (is the file truncated?)")
    for part in parts:
        if (size := _SIZE.match(part)) and not width:
            width, height = int(size["w"]), int(size["h"])
        elif fps := _FPS.match(part):
            frame_rate = float(fps["value"]) * (1000 if fps["k"] else 1)
    if not width or not height:
        raise MediaRejected("not_a_video", "the video stream has no picture size")
    return width, height, frame_rate


def _top_level_parts(text: str) -> list[str]:
    """Split on the commas that are not inside parentheses or brackets."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return parts

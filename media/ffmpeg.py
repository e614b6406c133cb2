"""Running ffmpeg from asyncio.

ffmpeg-python builds our argument lists, but its ``.run()`` blocks the event loop and leaves the
child running when the caller gives up. ``run`` starts the binary with
``asyncio.create_subprocess_exec`` instead, kills it when the awaiting task is cancelled, and turns
a failure into ``FfmpegFailed`` carrying ffmpeg's own last words.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import re
import shutil
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import imageio_ffmpeg
import msgspec

# Lines kept for parsing (the description of an input); a hostile file with endless metadata
# cannot make us hold more than this.
_MAX_LINES = 10_000
_TAIL_LINES = 5
_ADDRESS = re.compile(r" @ 0x[0-9a-f]+")


class FfmpegFailed(Exception):
    """ffmpeg is missing, lacks an encoder we need, or exited with an error."""

    def __init__(self, message: str, *, returncode: int | None = None) -> None:
        super().__init__(message)
        self.returncode = returncode


class Completed(msgspec.Struct, frozen=True):
    returncode: int
    stderr: str


@functools.cache
def ffmpeg_binary() -> str:
    """The machine's ffmpeg when there is one (likely built for it), else the one in the wheel."""
    on_path = shutil.which("ffmpeg")
    if on_path:
        return on_path
    try:
        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except RuntimeError as exc:
        raise FfmpegFailed(f"no ffmpeg binary: {exc}") from exc


async def run(
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    on_stdout_line: Callable[[str], Awaitable[None]] | None = None,
    check: bool = True,
) -> Completed:
    """Run ``ffmpeg <args>``; with ``check``, a non-zero exit raises ``FfmpegFailed``.

    ``on_stdout_line`` receives stdout line by line (where ``-progress pipe:1`` writes); stdin is
    closed so ffmpeg never waits for a keypress.
    """
    binary = ffmpeg_binary()
    process = await asyncio.create_subprocess_exec(
        binary,
        "-hide_banner",
        "-nostdin",
        *args,
        cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE if on_stdout_line else asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        limit=1 << 20,
    )
    lines: list[str] = []
    tail: collections.deque[str] = collections.deque(maxlen=_TAIL_LINES)

    async def read_stderr(stream: asyncio.StreamReader) -> None:
        async for raw in stream:
            line = _ADDRESS.sub("", raw.decode(errors="replace").rstrip())
            if len(lines) < _MAX_LINES:
                lines.append(line)
            if line.strip():
                tail.append(line.strip())

    async def read_stdout(stream: asyncio.StreamReader, callback: Callable[[str], Awaitable[None]]) -> None:
        async for raw in stream:
            await callback(raw.decode(errors="replace").strip())

    readers = [read_stderr(_stream(process.stderr))]
    if on_stdout_line:
        readers.append(read_stdout(_stream(process.stdout), on_stdout_line))
    try:
        await asyncio.gather(*readers)
        returncode = await process.wait()
    finally:
        if process.returncode is None:
            # Cancelled (or a callback raised): the child must not outlive the task.
            process.kill()
            await process.wait()
    if check and returncode != 0:
        said = ": " + " | ".join(tail) if tail else " without a message"
        raise FfmpegFailed(f"ffmpeg exited with {returncode}{said}", returncode=returncode)
    return Completed(returncode=returncode, stderr="\n".join(lines))


def _stream(stream: asyncio.StreamReader | None) -> asyncio.StreamReader:
    assert stream is not None, "the pipe was requested"
    return stream


_encoders: frozenset[str] | None = None


async def encoders() -> frozenset[str]:
    """Names of the encoders this ffmpeg was built with (asked once per process)."""
    global _encoders
    if _encoders is None:
        names: set[str] = set()

        async def collect(line: str) -> None:
            # " V....D libx264   libx264 H.264 / AVC ..." after a legend of " V..... = Video" lines
            flags, _, rest = line.partition(" ")
            name = rest.split(" ", 1)[0]
            if len(flags) == 6 and flags[0] in "VAS" and name not in ("", "="):
                names.add(name)

        await run(["-encoders"], on_stdout_line=collect)
        _encoders = frozenset(names)
    return _encoders


async def require_encoders(*names: str) -> None:
    """Fail up front, naming the binary, rather than halfway through a transcode."""
    missing = [name for name in names if name not in await encoders()]
    if missing:
        raise FfmpegFailed(f"{ffmpeg_binary()} has no {', '.join(missing)} encoder")

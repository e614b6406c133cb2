"""The top frames of a py-spy recording (``py-spy record --format raw``), as markdown tables.

    python -m bench.profile bench/results/profiles/live_comments_before.txt [--top 12]

Each line of the raw format is one stack, root first, ``;``-separated, then its sample count.
``self``: the samples a frame was the innermost of (where the CPU was); ``total``: the samples a
frame was anywhere on the stack (what it and its callees cost), the event loop's own frames left
out. Both as a share of all samples (py-spy counts a thread waiting in a system call as active:
``select`` is the loop waiting for work, and a socket ``write`` includes the kernel's send).
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

_LOCATION = re.compile(r" \((?P<file>[^()]*):\d+\)$")
# The event loop and the process's entry: on nearly every stack, so left out of ``total``.
_SCAFFOLDING = ("(asyncio/base_events.py)", "(asyncio/runners.py)", "(asyncio/events.py)", "(<frozen runpy>)",
                "(server/cli.py)")  # fmt: skip


def frame_name(frame: str) -> str:
    """``function (path/to/module.py:line)`` without the line, with the path shortened."""
    match = _LOCATION.search(frame)
    if match is None:
        return frame
    path = match["file"]
    for marker in ("site-packages/", "/lib/python3.11/", "/work/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{frame[: match.start()]} ({path})"


def top_frames(text: str, top: int) -> tuple[int, list[tuple[str, int]], list[tuple[str, int]]]:
    own: Counter[str] = Counter()
    anywhere: Counter[str] = Counter()
    total = 0
    for line in text.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [frame_name(f) for f in stack.split(";")]
        total += count
        own[frames[-1]] += count
        for name in set(frames):
            if not name.endswith(_SCAFFOLDING):
                anywhere[name] += count
    return total, own.most_common(top), anywhere.most_common(top)


def table(title: str, rows: list[tuple[str, int]], total: int) -> str:
    lines = [f"| {title} | share of samples |", "| --- | --- |"]
    lines += [f"| `{name}` | {100 * count / total:.1f} % |" for name, count in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args()
    total, own, anywhere = top_frames(Path(args.path).read_text(), args.top)
    print(f"{total} samples\n")
    print(table("self", own, total))
    print()
    print(table("total (self and callees)", anywhere, total))


if __name__ == "__main__":
    main()

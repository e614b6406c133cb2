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
- ours+nginx: ``deploy/nginx/mydrtv.conf`` (the same nginx settings) in front of a ``mydrtv
  serve`` in X-Accel-Redirect mode: the server authorizes through ``auth_request`` (its yes kept
  for 1 s), nginx sends the file;
- ours+nginx secure_link: the same nginx and server, the URLs being the secure links the server's
  playback hands out (``MYDRTV_MEDIA_SECURE_LINK_SECRET``): nginx checks them and sends the file
  with no request to the server (whose CPU time is recorded apart, as for ours+nginx);
- ours on S3 with ``media_redirect`` (moto's server), after the rounds: redirects per second.

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

This module runs the two halves and writes the results; each job has its own module:
``media_transcode`` (the transcode rounds), ``media_serving`` (our server, the checks, the rounds),
``nginx`` (its configuration and process), ``http_load`` (wrk and the asyncio client),
``debian`` (installing the tools), ``targets`` (a server under load).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import signal
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.harness import write_results
from bench.media_serving import serving
from bench.media_transcode import transcode_rounds


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
    parser.add_argument("--no-s3", action="store_true", help="skip the S3 redirect measurement (moto)")
    parser.add_argument("--no-install", action="store_true", help="never run apt-get")
    return parser.parse_args(argv)


async def main() -> int:
    args = parse_args()
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
            "settings": vars(args),
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

"""Watch-party sync in real browsers: two minutes of playback on the party page, three Chromium
viewers (plain; websocket frames delayed 150 ms each way; clock 2.5 s ahead), with the party's drift
policy and then, in the same run, the same page with Jellyfin SyncPlay's thresholds.

    python -m bench.party_browser [--seconds 120]

Needs the web client's dependencies (``npm ci`` in ``web/``) and Chromium at /usr/bin/chromium.
It makes a test clip longer than the run with ffmpeg, then runs ``web/e2e/party-browser.bench.ts``
through Playwright against a real ``mydrtv dev`` (its own port, data directory and embedded
PostgreSQL and Redis), which uploads the clip, waits for its transcode, and plays it. Every 250 ms
it reads each viewer's ``video.currentTime`` and compares it with ``position_at(now)`` of the party's
state by this machine's clock (the server's). Reported per policy: the difference between viewers
(every pair, every sample: p50/p95/max), each viewer's error against the party, corrective seeks and
rate corrections per minute (stutter; a correction is the rate leaving the party's, however many
small steps it takes, and the raw count of rate steps is reported beside it), pauses nobody asked
for, and stalls (``waiting`` events).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from bench.harness import write_results
from media.testclips import make_test_clip

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web"


def run_browsers(clip: Path, out: Path, seconds: int, data_dir: Path) -> None:
    env = {
        **os.environ,
        "PARTY_BENCH_CLIP": str(clip),
        "PARTY_BENCH_OUT": str(out),
        "PARTY_BENCH_SECONDS": str(seconds),
        "E2E_PORT": os.environ.get("E2E_PORT", "8763"),
        "E2E_PG_PORT": os.environ.get("E2E_PG_PORT", "54363"),
        "E2E_REDIS_PORT": os.environ.get("E2E_REDIS_PORT", "56363"),
        "E2E_DATA_DIR": os.environ.get("E2E_DATA_DIR", str(data_dir)),
    }
    command = ["npx", "playwright", "test", "-c", "playwright.bench.config.ts"]
    subprocess.run(command, cwd=WEB, env=env, check=True)


def summary(run: dict[str, Any]) -> str:
    viewers = run["viewers"]
    seeks = max(v["corrective_seeks_per_minute"] for v in viewers)
    stutter = max(v["stutter_per_minute"] for v in viewers)
    steps = max(v["rate_changes_per_minute"] for v in viewers)
    pauses = sum(v["unasked_pauses"] for v in viewers)
    between = run["between_viewers"]
    return (
        f"{run['policy']:>8}: between viewers p95 {between['p95_ms']} ms (max {between['max_ms']}), "
        f"seeks/viewer/min ≤ {seeks}, stutter (seeks + rate corrections)/viewer/min ≤ {stutter} "
        f"(rate steps ≤ {steps}), unasked pauses {pauses}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=120, help="playback measured per policy")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mydrtv-party-browser-") as tmp:
        clip = Path(tmp) / "clip.mp4"
        # Longer than the run plus the start, small so the transcode is quick.
        asyncio.run(make_test_clip(clip, seconds=args.seconds + 40, width=426, height=240))
        out = Path(tmp) / "result.json"
        run_browsers(clip, out, args.seconds, Path(tmp) / "data")
        runs = json.loads(out.read_text())["runs"]
    command = "python -m bench.party_browser" + (f" --seconds {args.seconds}" if args.seconds != 120 else "")
    path = write_results("party_browser", command, {"seconds": args.seconds, "runs": runs})
    for run in runs:
        print(summary(run))
    print(f"written to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

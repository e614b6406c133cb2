"""How heavy the web client is, and how soon the video page shows its first frame.

Builds the client with Vite's manifest, then from the manifest: the JavaScript a first visit
loads (the entry chunk and its static imports, gzipped) and where hls.js went (a chunk reachable
only by dynamic import means no page but those that play downloads it). Then starts a real
`mydrtv dev` (embedded stack in a temporary directory, the demo videos transcoded by ffmpeg)
serving that build, and times navigation → first video frame on the video page in the machine's
Chromium (`web/scripts/first-frame.mjs`), cold (empty cache) and warm (second visit).

    .venv/bin/python -m bench.web_load [--rounds 7] [--server http://127.0.0.1:8742]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.harness import write_results
from tests.services import free_port

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web"
DIST = WEB / "dist"
GOAL_INITIAL_JS_GZIP_BYTES = 300 * 1024
DEMO_PREFIX = "00000000-0000-4000-8000-"


def build() -> dict[str, Any]:
    """`npm run build` with the manifest; the manifest as a dict."""
    subprocess.run(["npm", "run", "build", "--", "--manifest"], cwd=WEB, check=True, capture_output=True)
    manifest: dict[str, Any] = json.loads((DIST / ".vite" / "manifest.json").read_text())
    return manifest


def gzip_size(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=6))


def static_closure(manifest: dict[str, Any], key: str) -> list[str]:
    """The chunk `key` and every chunk it imports statically: what loads before it can run."""
    seen: list[str] = []
    stack = [key]
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.append(current)
        stack.extend(manifest[current].get("imports", []))
    return seen


def bundle_report(manifest: dict[str, Any]) -> dict[str, Any]:
    entry = next(key for key, chunk in manifest.items() if chunk.get("isEntry"))
    initial = static_closure(manifest, entry)
    files = [manifest[key]["file"] for key in initial]
    css = sorted({css for key in initial for css in manifest[key].get("css", [])})
    js_gzip = sum(gzip_size(DIST / file) for file in files)
    hls_keys = [key for key in manifest if "node_modules/hls.js/" in key]
    importers = sorted(
        key for key, chunk in manifest.items() if set(chunk.get("dynamicImports", [])) & set(hls_keys)
    )
    # The chunks that reach hls.js statically: only the pages that play may be among them.
    static_importers = sorted(key for key in manifest if set(static_closure(manifest, key)) & set(hls_keys))
    return {
        "entry": entry,
        "initial_chunks": files,
        "initial_js_bytes": sum((DIST / file).stat().st_size for file in files),
        "initial_js_gzip_bytes": js_gzip,
        "initial_css_gzip_bytes": sum(gzip_size(DIST / file) for file in css),
        "goal_initial_js_gzip_bytes": GOAL_INITIAL_JS_GZIP_BYTES,
        "within_goal": js_gzip <= GOAL_INITIAL_JS_GZIP_BYTES,
        "hls": [
            {
                "source": key,
                "file": manifest[key]["file"],
                "gzip_bytes": gzip_size(DIST / manifest[key]["file"]),
            }
            for key in hls_keys
        ],
        "hls_in_initial": any(key in initial for key in hls_keys),
        "hls_dynamically_imported_by": importers,
        "hls_statically_reached_from": [key for key in static_importers if key not in hls_keys],
    }


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def wait_for(what: str, check: Any, within: float) -> Any:
    """Poll `check()` until it gives something truthy (a server starting; no event to await)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            value = check()
        except OSError:
            value = None
        if value:
            return value
        time.sleep(0.5)
    raise TimeoutError(f"{what} did not happen within {within:.0f} s")


def ready_demo_video(base: str) -> str:
    def find() -> str | None:
        page = get_json(f"{base}/videos?limit=100")
        ready = [v["id"] for v in page["items"] if v["id"].startswith(DEMO_PREFIX) and v["status"] == "ready"]
        return sorted(ready)[0] if ready else None

    found: str = wait_for("a demo video ready", find, within=600)
    return found


def start_server(data_dir: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "MYDRTV_PORT": str(port),
        "MYDRTV_DATA_DIR": data_dir,
        "MYDRTV_EMBEDDED_POSTGRES_PORT": str(free_port()),
        "MYDRTV_EMBEDDED_REDIS_PORT": str(free_port()),
        "MYDRTV_WEB_DIST_DIR": str(DIST),
        "MYDRTV_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "dev"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    wait_for("the server ready", lambda: get_json(f"{base}/health/ready")["status"] == "ready", within=300)
    return process, base


def stop_server(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def summary(visits: list[dict[str, Any]]) -> dict[str, Any]:
    frames = [visit["first_frame_ms"] for visit in visits]
    return {
        "first_frame_ms": frames,
        "first_frame_median_ms": statistics.median(frames),
        "first_frame_min_ms": min(frames),
        "first_frame_max_ms": max(frames),
        "transferred_bytes_median": statistics.median(visit["transferred_bytes"] for visit in visits),
        # Played through hls.js (Chromium also has native HLS now; the player prefers hls.js).
        "hls_js_every_visit": all(any("/hls" in s["name"] for s in visit["scripts"]) for visit in visits),
    }


def first_frames(base: str, video_id: str, rounds: int) -> dict[str, Any]:
    done = subprocess.run(
        ["node", "scripts/first-frame.mjs", base, video_id, str(rounds)],
        cwd=WEB,
        check=True,
        capture_output=True,
        text=True,
    )
    raw: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return {
        "chromium": raw["chromium"],
        "video_id": video_id,
        "rounds": rounds,
        "cold": summary(raw["cold"]),
        "warm": summary(raw["warm"]),
        "cold_scripts_first_round": raw["cold"][0]["scripts"],
        "visits": {"cold": raw["cold"], "warm": raw["warm"]},
    }


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=7, help="cold and warm visits each")
    parser.add_argument("--server", help="use this running server (serving web/dist) instead of starting one")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    bundle = bundle_report(build())
    print(json.dumps({"bundle": {k: v for k, v in bundle.items() if k != "initial_chunks"}}, indent=2))
    with tempfile.TemporaryDirectory(prefix="mydrtv-web-bench-") as data_dir:
        process = None
        base = args.server
        if base is None:
            process, base = start_server(data_dir)
        try:
            video_id = ready_demo_video(base)
            frames = first_frames(base, video_id, args.rounds)
        finally:
            if process is not None:
                stop_server(process)
    command = "python -m bench.web_load" + (f" --rounds {args.rounds}" if args.rounds != 7 else "")
    path = write_results("web_load", command, {"bundle": bundle, "first_frame": frames})
    print(json.dumps({"cold": frames["cold"], "warm": frames["warm"]}, indent=2))
    print(f"wrote {path}")
    return 0 if bundle["within_goal"] and not bundle["hls_in_initial"] else 1


if __name__ == "__main__":
    raise SystemExit(main())

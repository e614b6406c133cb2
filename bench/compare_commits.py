"""Fan-out and watch-party figures of two source trees, run interleaved on one machine in one go.

    python -m bench.compare_commits --old f4ad489 [--new .] [--pairs 3]

A refactor should leave the benchmarks within noise, and on a shared machine noise drifts over
minutes, so the two trees' runs alternate (old, new, old, new ...) instead of one after the other,
and the report gives medians and the ratio new ÷ old with the load average around every run.

``--old`` and ``--new`` are a directory holding a checkout, or a git commit, which gets a throwaway
worktree (removed at the end) sharing this checkout's ``.venv``. Every benchmark runs as
``python -m bench.<name>`` with the tree as working directory and as ``PYTHONPATH``, so the
benchmark, its workers and its server children all import that tree's code; each run's result
JSON is copied aside (``--keep``) before the next run overwrites it, and the tree's committed
result files are put back afterwards. Writes ``bench/results/restructure_compare.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent.parent
RESULT = HERE / "bench" / "results" / "restructure_compare.json"
DEFAULT_ARGS = {
    "fanout": "--subscribers 500 --rounds 1 --seconds 5",
    "parties": "--policies mydrtv",
}


def _median(values: list[float]) -> float:
    return statistics.median(values)


def fanout_figures(document: dict[str, Any]) -> dict[str, float]:
    """The gateway's figures (medians over the run's rounds), with the bare server beside them."""
    rounds = document["rounds"]
    return {
        "gateway_burst_deliveries_per_s": _median(
            [r["gateway"]["burst"]["deliveries_per_second"] for r in rounds]
        ),
        "gateway_cpu_ms_per_1000_deliveries": _median(
            [r["gateway"]["burst"]["server_cpu_ms_per_1000_deliveries"] for r in rounds]
        ),
        "gateway_steady_p50_ms": _median([r["gateway"]["steady"]["p50_ms"] for r in rounds]),
        "gateway_steady_p99_ms": _median([r["gateway"]["steady"]["p99_ms"] for r in rounds]),
        "bare_burst_deliveries_per_s": _median([r["bare"]["burst"]["deliveries_per_second"] for r in rounds]),
        "gateway_over_bare_throughput": document["summary"]["throughput_ratio_gateway_to_bare_median"],
        "lost": document["summary"]["lost"],
    }


def parties_figures(document: dict[str, Any]) -> dict[str, float]:
    """Our policy's sync figures (the worst round, as the benchmark itself reports)."""
    ours = document["summary"]["mydrtv"]
    reached, total = (int(part) for part in ours["converged_commands"].split(" of "))
    return {
        "pairwise_p50_ms": ours["pairwise_ms"]["p50"],
        "pairwise_p95_ms": ours["pairwise_ms"]["p95"],
        "pairwise_max_ms": ours["pairwise_ms"]["max"],
        "vs_schedule_p95_ms": ours["vs_schedule_ms"]["p95"],
        "converge_median_ms": ours["converge_ms_median"] or float("nan"),
        "commands_not_converged": total - reached,
    }


FIGURES: dict[str, Callable[[dict[str, Any]], dict[str, float]]] = {
    "fanout": fanout_figures,
    "parties": parties_figures,
}


@contextmanager
def checkout(spec: str) -> Iterator[tuple[Path, str]]:
    """A directory with ``spec``'s code and the commit it holds; a commit gets a throwaway worktree."""
    if Path(spec).is_dir():
        tree = Path(spec).resolve()
        yield tree, _git(tree, "rev-parse", "--short", "HEAD")
        return
    commit = _git(HERE, "rev-parse", "--short", spec)
    tree = Path(tempfile.mkdtemp(prefix=f"compare-{commit}-"))
    tree.rmdir()
    _git(HERE, "worktree", "add", "--detach", str(tree), commit)
    try:
        (tree / ".venv").symlink_to((HERE / ".venv").resolve())
        yield tree, commit
    finally:
        _git(HERE, "worktree", "remove", "--force", str(tree))


def _git(tree: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(tree), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def imported_from(tree: Path) -> str:
    """Where a child started like the benchmark's imports ``realtime`` from: must be inside ``tree``."""
    found = subprocess.run(
        [str(tree / ".venv" / "bin" / "python"), "-c", "import realtime; print(realtime.__file__)"],
        cwd=tree,
        env=_env(tree),
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    if not Path(found).resolve().is_relative_to(tree.resolve()):
        raise RuntimeError(f"{tree} would run code from {found}")
    return found


def _env(tree: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(tree)}


def run_once(tree: Path, name: str, args: str, keep: Path, label: str) -> dict[str, Any]:
    """One benchmark run in ``tree``; its result JSON copied to ``keep`` and its figures."""
    result = tree / "bench" / "results" / f"{name}.json"
    load_before = os.getloadavg()
    started = time.monotonic()
    subprocess.run(
        [str(tree / ".venv" / "bin" / "python"), "-m", f"bench.{name}", *shlex.split(args)],
        cwd=tree,
        env=_env(tree),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    seconds = time.monotonic() - started
    copy = keep / f"{label}.json"
    shutil.copyfile(result, copy)
    document: dict[str, Any] = json.loads(result.read_text())
    return {
        "label": label,
        "ran_at": document["ran_at"],
        "seconds": round(seconds, 1),
        "load_average_1min_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "result_copy": str(copy),
        "figures": FIGURES[name](document),
    }


@contextmanager
def results_restored(trees: list[Path], names: list[str]) -> Iterator[None]:
    """Put back each tree's result files as they were, since the runs overwrite them."""
    saved = {
        path: path.read_bytes() if path.exists() else None
        for tree in trees
        for path in (tree / "bench" / "results" / f"{name}.json" for name in names)
    }
    try:
        yield
    finally:
        for path, content in saved.items():
            if content is None:
                path.unlink(missing_ok=True)
            else:
                path.write_bytes(content)


def compare(runs: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, float | None]]:
    """Per figure: the median of each side and new ÷ old."""
    out: dict[str, dict[str, float | None]] = {}
    for figure in runs["old"][0]["figures"]:
        old = round(_median([run["figures"][figure] for run in runs["old"]]), 2)
        new = round(_median([run["figures"][figure] for run in runs["new"]]), 2)
        out[figure] = {"old": old, "new": new, "new_over_old": round(new / old, 3) if old else None}
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--old", required=True, help="a directory or a git commit")
    parser.add_argument("--new", default=str(HERE), help="a directory or a git commit")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--benchmarks", default="fanout,parties")
    parser.add_argument("--fanout-args", default=DEFAULT_ARGS["fanout"])
    parser.add_argument("--parties-args", default=DEFAULT_ARGS["parties"])
    parser.add_argument("--keep", default=None, help="where each run's result JSON is copied")
    args = parser.parse_args()
    names = args.benchmarks.split(",")
    bench_args = {"fanout": args.fanout_args, "parties": args.parties_args}
    keep = Path(args.keep or tempfile.mkdtemp(prefix="restructure-compare-"))
    keep.mkdir(parents=True, exist_ok=True)
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    with checkout(args.old) as (old_tree, old_commit), checkout(args.new) as (new_tree, new_commit):
        trees = {"old": old_tree, "new": new_tree}
        imports = {side: imported_from(tree) for side, tree in trees.items()}
        runs: dict[str, dict[str, list[dict[str, Any]]]] = {name: {"old": [], "new": []} for name in names}
        with results_restored(list(trees.values()), names):
            for pair in range(1, args.pairs + 1):
                for name in names:
                    for side, tree in trees.items():
                        label = f"{name}-{side}-{pair}"
                        run = run_once(tree, name, bench_args[name], keep, label)
                        runs[name][side].append(run)
                        print(json.dumps(run), file=sys.stderr, flush=True)
    document = {
        "benchmark": "restructure_compare",
        "command": ("python -m bench.compare_commits " + " ".join(sys.argv[1:])).strip(),
        "started_at": started,
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"python": sys.version.split()[0], "cpus": os.cpu_count()},
        "old": {"commit": old_commit, "realtime_imported_from": imports["old"]},
        "new": {"commit": new_commit, "realtime_imported_from": imports["new"]},
        "arguments": {name: bench_args[name] for name in names},
        "order": "old then new, pair by pair, benchmark by benchmark",
        "summary": {name: compare(runs[name]) for name in names},
        "runs": runs,
    }
    RESULT.parent.mkdir(exist_ok=True)
    RESULT.write_text(json.dumps(document, indent=2) + "\n")
    print(json.dumps(document["summary"], indent=2))
    print(f"written to {RESULT}", file=sys.stderr)


if __name__ == "__main__":
    main()

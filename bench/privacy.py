"""Export and erasure of a heavy user: 10 000 comments, 1 000 follows, 5 uploads.

    python -m bench.privacy [--comments 10000] [--follows 1000] [--uploads 5] [--upload-mib 1]

On the embedded stack (PostgreSQL, Redis with FalkorDB) and a storage directory, three such users
are seeded in bulk (``support/privacy_seed.py``; the graph rebuilt from PostgreSQL):

- user A is exported, then erased, both through the job queue and the worker the API runs
  (``privacy_jobs``): the time from the job's insertion to its end, the archive's size;
- user B is erased part by part, each part timed alone (where the time goes);
- user C is deleted "by hand", the baseline: ``DELETE FROM users`` (the cascades take the rows,
  comments included, rather than keeping the answered ones) and the storage prefixes deleted,
  with no graph, Redis, outbox or identity work.

Then the audit (every store scanned) is timed for A, and ``replay-erasures`` with A's one receipt
(what each receipt costs a replay after a restore when the backup did not hold the user: every
part looks, nothing is found). The machine's load average is recorded at the start and the end
(the machine may be shared).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import msgspec

from app.privacy.outbox import NotYet
from app.privacy.replay import replay_erasures
from bench.harness import embedded_settings, write_results
from core.db import Database
from graph.projector import Projector
from media.storage import open_storage
from realtime.bus.memory import MemoryBus
from realtime.outbox import Relay
from server.privacy import Standalone
from support.privacy_seed import Heavy, seed_heavy


async def _run_job(stack: Standalone, db: Database, job_id: int) -> dict[str, Any]:
    """Run the job to its end, with the outbox relayed between runs as the API's relay would."""
    assert stack.graph is not None
    relay = Relay(db, MemoryBus(), handlers={"@graph": Projector(db, stack.graph).handle})
    while True:
        await relay.drain()
        await stack.worker.work()
        rows = await db.fetch("SELECT * FROM privacy_jobs WHERE id = {}", job_id)
        if rows[0]["state"] in ("done", "failed"):
            return rows[0]
        await asyncio.sleep(0.05)


async def _hand_delete(db: Database, stack: Standalone, heavy: Heavy) -> float:
    started = time.perf_counter()
    videos = await db.fetch("SELECT id FROM videos WHERE owner_id = {}", heavy.user_id)
    for video in videos:
        assert stack.storage is not None
        await stack.storage.delete_prefix(f"videos/{video['id']}/")
    await db.fetch("DELETE FROM users WHERE id = {}", heavy.user_id)
    return time.perf_counter() - started


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="mydrtv-bench-privacy-") as media:
        async with embedded_settings() as base:
            settings = msgspec.structs.replace(
                base,
                graph_url=f"falkor://127.0.0.1:{base.embedded_redis_port}",
                graph_name="bench-privacy",
                storage_url=Path(media).as_uri(),
                redis_url=f"redis://127.0.0.1:{base.embedded_redis_port}",
            )
            storage = open_storage(settings.storage_url)
            sizes = {"comments": args.comments, "follows": args.follows, "uploads": args.uploads}
            seeded: list[Heavy] = []
            seed_started = time.perf_counter()
            for _ in range(3):
                seeded.append(
                    await seed_heavy(settings, storage, upload_bytes=args.upload_mib * 2**20, **sizes)
                )
            seed_seconds = time.perf_counter() - seed_started
            await storage.close()
            a, b, c = seeded
            stack = Standalone(settings)
            await stack.start()
            try:
                db = stack.main
                started = time.perf_counter()
                job = await stack.jobs.add("export", a.user_id, requested_by=None)
                exported = await _run_job(stack, db, job.id)
                export_seconds = time.perf_counter() - started
                assert exported["state"] == "done", exported

                started = time.perf_counter()
                job = await stack.jobs.add("erase", a.user_id, requested_by=None)
                erased = await _run_job(stack, db, job.id)
                erase_seconds = time.perf_counter() - started
                assert erased["state"] == "done", erased

                started = time.perf_counter()
                residue = await stack.registry.residue(a.user_id)
                audit_seconds = time.perf_counter() - started
                assert not any(residue.values()), residue

                assert stack.graph is not None  # the events A's erasure left, sent as the API would
                await Relay(db, MemoryBus(), handlers={"@graph": Projector(db, stack.graph).handle}).drain()
                started = time.perf_counter()
                replayed = await replay_erasures(db, stack.registry)
                replay_seconds = time.perf_counter() - started
                assert replayed.subjects == 1 and not replayed.erased_again and not replayed.waiting

                parts: dict[str, float] = {}
                assert stack.graph is not None
                relay = Relay(db, MemoryBus(), handlers={"@graph": Projector(db, stack.graph).handle})
                await stack.jobs.add("erase", b.user_id, requested_by=None)  # remember_videos needs a job
                await db.fetch("UPDATE privacy_jobs SET state = 'running' WHERE user_id = {}", b.user_id)
                for part in stack.registry.parts:
                    part_started = time.perf_counter()
                    while True:
                        try:
                            await part.erase(b.user_id)
                            break
                        except NotYet:  # the outbox part, until the relay has sent B's last events
                            await relay.drain()
                    parts[part.name] = round(time.perf_counter() - part_started, 3)

                hand_seconds = await _hand_delete(db, stack, c)
            finally:
                await stack.stop()
    return {
        "sizes": {**sizes, "upload_mib": args.upload_mib},
        "seed_seconds_for_three_users": round(seed_seconds, 2),
        "export": {
            "seconds": round(export_seconds, 3),
            "archive_bytes": exported["archive_bytes"],
            "uploads_bytes": a.stored_bytes,
        },
        "erasure": {
            "seconds": round(erase_seconds, 3),
            "counts": msgspec.json.decode(erased["counts"]),
            "attempts": erased["attempts"],
        },
        "erasure_parts_seconds": parts,
        "erasure_parts_total_seconds": round(sum(parts.values()), 3),
        "audit_seconds": round(audit_seconds, 3),
        "replay_of_one_receipt_seconds": round(replay_seconds, 3),
        "baseline_hand_delete_seconds": round(hand_seconds, 3),
        "load_average": {
            "before": [round(v, 2) for v in load_before],
            "after": [round(v, 2) for v in os.getloadavg()],
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--comments", type=int, default=10_000)
    parser.add_argument("--follows", type=int, default=1_000)
    parser.add_argument("--uploads", type=int, default=5)
    parser.add_argument("--upload-mib", type=int, default=1)
    args = parser.parse_args()
    results = asyncio.run(measure(args))
    path = write_results("privacy", "python -m bench.privacy " + " ".join(sys.argv[1:]), results)
    print(msgspec.json.format(msgspec.json.encode(results), indent=2).decode())
    print(f"written to {path}", file=sys.stderr)


if __name__ == "__main__":
    main()

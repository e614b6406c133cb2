"""An erasure of a heavy user (10 000 comments, 1 000 follows, 5 uploads) survives ``kill -9`` of
its worker mid-way: another worker claims the job when the lease runs out, finishes it, and the
audit finds nothing; running it again changes nothing."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest

from core.db import Database
from core.settings import Settings
from graph.projector import Projector
from graph.rebuild import differences
from media.storage import open_storage
from realtime.bus.memory import MemoryBus
from realtime.outbox import Relay
from server.privacy import Standalone
from support.privacy_seed import seed_heavy
from support.processes import settings_env
from tests.app.privacy.conftest import run_jobs


@pytest.fixture(scope="module")
def lease_settings(privacy_settings: Settings) -> Settings:
    return msgspec.structs.replace(privacy_settings, privacy_lease_seconds=1.5, privacy_poll_seconds=0.2)


@pytest.fixture(scope="module")
async def short_lease_stack(lease_settings: Settings) -> AsyncIterator[Standalone]:
    standalone = Standalone(lease_settings)
    await standalone.start()
    yield standalone
    await standalone.stop()


async def _until(check: Any, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.005)


async def test_an_erasure_killed_mid_way_is_resumed_and_idempotent(
    lease_settings: Settings, short_lease_stack: Standalone, main_db: Database
) -> None:
    storage = open_storage(lease_settings.storage_url)
    heavy = await seed_heavy(lease_settings, storage)
    await storage.close()
    stack = short_lease_stack
    before = await stack.registry.residue(heavy.user_id)
    assert all(before[store] for store in ("identity", "main", "graph", "storage")), before

    worker = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server.cli",
        "privacy",
        "worker",
        env=settings_env(lease_settings),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        job = await stack.jobs.add("erase", heavy.user_id, requested_by=None)

        async def comments_half_gone() -> bool:
            rows = await main_db.fetch(
                "SELECT count(*) AS n FROM comments WHERE author_id = {}", heavy.user_id
            )
            return 0 < rows[0]["n"] < heavy.comments

        await _until(comments_half_gone)
        worker.send_signal(signal.SIGKILL)
        await worker.wait()
    finally:
        if worker.returncode is None:
            worker.kill()
            await worker.wait()
    killed = await main_db.fetch("SELECT state, steps_done FROM privacy_jobs WHERE id = {}", job.id)
    assert killed[0]["state"] == "running" and "comments" not in killed[0]["steps_done"], killed
    left = await main_db.fetch("SELECT count(*) AS n FROM comments WHERE author_id = {}", heavy.user_id)
    assert 0 < left[0]["n"] < heavy.comments

    assert stack.graph is not None
    relay = Relay(main_db, MemoryBus(), handlers={"@graph": Projector(main_db, stack.graph).handle})
    # Claimed again once the dead worker's lease ran out; the relay feeds the projector meanwhile.
    done = await run_jobs(stack, main_db, job.id, relay=relay.drain)
    assert done["state"] == "done" and done["attempts"] == 2, done
    assert await stack.registry.residue(heavy.user_id) == {store: [] for store in stack.registry.stores}
    receipts = await main_db.fetch("SELECT counts FROM erasure_receipts WHERE subject = {}", heavy.user_id)
    assert len(receipts) == 1
    counts = msgspec.json.decode(receipts[0]["counts"])
    assert counts["social"]["follows"] == heavy.follows + heavy.follows // 10
    assert counts["uploads"]["videos"] == heavy.uploads
    assert counts["graph"]["node"] == 1
    answered = await main_db.fetch(
        "SELECT count(*) AS n FROM comments c JOIN users u ON u.id = c.author_id"
        " WHERE u.handle = '[deleted]' AND c.body = '[deleted]' AND EXISTS"
        " (SELECT 1 FROM comments r WHERE r.root_id = c.id AND r.body LIKE 'a reply to %')"
    )
    assert answered[0]["n"] == 100  # the comments others replied to stay, anonymised

    await relay.drain()  # the follower counts and popularity the graph keeps are right again
    assert await differences(main_db, stack.graph) == {}

    for part in stack.registry.parts:  # idempotent: nothing more to erase anywhere
        assert not any((await part.erase(heavy.user_id)).values()), part.name

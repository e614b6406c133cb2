"""The transcoding queue on real PostgreSQL: claims, leases, fencing, retries, superseding."""

from __future__ import annotations

import asyncio
import uuid

from app.videos.media.jobs import JobQueue
from core.db import Database
from core.settings import Settings
from tests.users import person


async def _video(settings: Settings, db: Database) -> uuid.UUID:
    owner = await person(settings)
    video_id = uuid.uuid4()
    await db.fetch("INSERT INTO videos (id, owner_id, title) VALUES ({}, {}, 'clip')", video_id, owner.id)
    return video_id


async def _state(db: Database, job_id: int) -> dict[str, object]:
    rows = await db.fetch("SELECT state, attempts, last_error FROM transcode_jobs WHERE id = {}", job_id)
    return rows[0]


async def _drain(queue: JobQueue) -> None:
    """Close every open job, so each test starts with an empty queue."""
    while (job := await queue.claim("cleaner")) is not None:
        await queue.fail(job, "cleaned up")


async def test_claims_go_oldest_first_and_never_twice(settings: Settings, db: Database) -> None:
    queue = JobQueue(db, lease_seconds=60, max_attempts=3)
    await _drain(queue)
    first = await queue.enqueue(await _video(settings, db), "a")
    second = await queue.enqueue(await _video(settings, db), "b")

    claims = await asyncio.gather(queue.claim("w1"), queue.claim("w2"), queue.claim("w3"))

    claimed = sorted(job.id for job in claims if job is not None)
    assert claimed == [first, second]
    assert all(job.attempts == 1 for job in claims if job is not None)
    assert await queue.claim("w4") is None


async def test_a_lapsed_lease_is_claimed_again_and_fences_the_first_claim(
    settings: Settings, db: Database
) -> None:
    queue = JobQueue(db, lease_seconds=0, max_attempts=3)  # every lease has run out at once
    await _drain(queue)
    job_id = await queue.enqueue(await _video(settings, db), "src")
    crashed = await queue.claim("crashed-worker")
    assert crashed is not None and crashed.id == job_id

    again = await queue.claim("second-worker")

    assert again is not None and again.id == job_id and again.attempts == 2
    assert not await queue.renew(crashed)
    assert not await queue.finish(crashed)
    assert not await queue.fail(crashed, "late")
    assert await queue.finish(again)
    assert (await _state(db, job_id))["state"] == "done"


async def test_retry_waits_for_its_delay(settings: Settings, db: Database) -> None:
    queue = JobQueue(db, lease_seconds=60, max_attempts=3)
    await _drain(queue)
    job_id = await queue.enqueue(await _video(settings, db), "src")
    job = await queue.claim("w")
    assert job is not None

    assert await queue.retry(job, "storage down", delay_seconds=3600)

    assert await queue.claim("w") is None
    assert await _state(db, job_id) == {"state": "queued", "attempts": 1, "last_error": "storage down"}
    await db.fetch("UPDATE transcode_jobs SET run_after = now() WHERE id = {}", job_id)
    retried = await queue.claim("w")
    assert retried is not None and retried.attempts == 2


async def test_a_newer_upload_supersedes_the_running_job(settings: Settings, db: Database) -> None:
    queue = JobQueue(db, lease_seconds=60, max_attempts=3)
    await _drain(queue)
    video_id = await _video(settings, db)
    old_id = await queue.enqueue(video_id, "old")
    old = await queue.claim("w")
    assert old is not None

    new_id = await queue.enqueue(video_id, "new")

    assert (await _state(db, old_id))["state"] == "superseded"
    assert not await queue.renew(old)
    assert not await queue.finish(old)
    new = await queue.claim("w")
    assert new is not None and new.id == new_id and new.source_key == "new"
    assert new.generation != old.generation


async def test_a_stopping_worker_hands_its_job_back_unspent(settings: Settings, db: Database) -> None:
    queue = JobQueue(db, lease_seconds=60, max_attempts=3)
    await _drain(queue)
    job_id = await queue.enqueue(await _video(settings, db), "src")
    job = await queue.claim("stopping")
    assert job is not None

    assert await queue.release(job)

    assert (await _state(db, job_id))["state"] == "queued"
    again = await queue.claim("next")
    assert again is not None and again.id == job_id and again.attempts == 1
    assert not await queue.release(job)  # fenced: the claim it held is gone

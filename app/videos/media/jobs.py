"""The transcoding queue: a PostgreSQL table claimed with ``FOR UPDATE SKIP LOCKED``.

PostgreSQL is already the system of record, so a job is enqueued in the same transaction as the
upload that needs it: no job without its upload, no upload without its job. A claim takes a
lease; the worker renews it while it works. A job whose lease ran out (its worker died) is
claimed again, which is the retry; after ``max_attempts`` claims it fails for good.

Every write a worker makes about its job is *fenced* by the claim it holds (a fresh id at every
claim): a worker that lost its lease (and whose job another worker now runs) cannot finish or
fail it.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from core.db import Database

NOTIFY_CHANNEL = "mydrtv_jobs"


class Job(msgspec.Struct, frozen=True):
    id: int
    video_id: uuid.UUID
    source_key: str
    claim: uuid.UUID  # this claim's id: the fence of every later write about the job
    attempts: int  # how many claims the job has had, this one included
    max_attempts: int
    created_at: datetime

    @property
    def generation(self) -> str:
        """Where this claim's output goes: one generation per job and attempt, never shared."""
        return f"j{self.id}a{self.attempts}"


class JobQueue:
    def __init__(self, db: Database, *, lease_seconds: float, max_attempts: int) -> None:
        self._db = db
        self.lease_seconds = lease_seconds
        self._max_attempts = max_attempts

    async def enqueue(self, video_id: uuid.UUID, source_key: str) -> int:
        """Queue a transcode of ``source_key``; call it inside the upload's transaction.

        Older jobs of the same video that have not finished are superseded: only the newest upload
        is worth transcoding.
        """
        await self._db.fetch(
            "UPDATE transcode_jobs SET state = 'superseded', updated_at = now()"
            " WHERE video_id = {} AND state IN ('queued', 'running')",
            video_id,
        )
        rows = await self._db.fetch(
            "INSERT INTO transcode_jobs (video_id, source_key, max_attempts) VALUES ({}, {}, {})"
            " RETURNING id",
            video_id,
            source_key,
            self._max_attempts,
        )
        await self._db.fetch("SELECT pg_notify({}, '')", NOTIFY_CHANNEL)
        return int(rows[0]["id"])

    async def claim(self, worker: str) -> Job | None:
        """The oldest job that is queued, or whose worker's lease ran out; None when there is none."""
        rows = await self._db.fetch(
            "UPDATE transcode_jobs SET state = 'running', attempts = attempts + 1, worker = {},"
            " claim = gen_random_uuid(),"
            " lease_until = now() + make_interval(secs => {}), updated_at = now()"
            " WHERE id = ("
            "   SELECT id FROM transcode_jobs"
            "   WHERE (state = 'queued' AND run_after <= now())"
            "      OR (state = 'running' AND lease_until < now())"
            "   ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1)"
            " RETURNING id, video_id, source_key, claim, attempts, max_attempts, created_at",
            worker,
            self.lease_seconds,
        )
        return msgspec.convert(rows[0], Job) if rows else None

    async def renew(self, job: Job) -> bool:
        """Extend the lease; False when the job is no longer this claim's (superseded, reclaimed)."""
        return await self._fenced(job, "lease_until = now() + make_interval(secs => {})", self.lease_seconds)

    async def finish(self, job: Job) -> bool:
        """Mark the job done; inside the transaction that publishes its output. False if fenced out."""
        return await self._fenced(job, "state = 'done', lease_until = NULL")

    async def fail(self, job: Job, reason: str) -> bool:
        """Fail the job for good (the media is bad, or it ran out of attempts)."""
        return await self._fenced(job, "state = 'failed', last_error = {}, lease_until = NULL", reason)

    async def retry(self, job: Job, reason: str, delay_seconds: float) -> bool:
        """Give the job back to the queue, to be claimed again after ``delay_seconds``."""
        return await self._fenced(
            job,
            "state = 'queued', last_error = {}, lease_until = NULL,"
            " run_after = now() + make_interval(secs => {})",
            reason,
            delay_seconds,
        )

    async def release(self, job: Job) -> bool:
        """Hand the job back unfinished (its worker is stopping): queued again at once, and the
        attempt it used does not count."""
        released = await self._fenced(job, "state = 'queued', attempts = attempts - 1, lease_until = NULL")
        if released:
            await self._db.fetch("SELECT pg_notify({}, '')", NOTIFY_CHANNEL)
        return released

    async def _fenced(self, job: Job, assignments: str, *values: object) -> bool:
        """Apply ``assignments`` (with ``{}`` placeholders for ``values``) if this claim still holds
        the job; False when it does not."""
        rows = await self._db.fetch(
            f"UPDATE transcode_jobs SET {assignments}, updated_at = now()"
            " WHERE id = {} AND state = 'running' AND claim = {} RETURNING id",
            *values,
            job.id,
            job.claim,
        )
        return bool(rows)

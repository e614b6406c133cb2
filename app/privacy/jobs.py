"""The privacy job queue (``privacy_jobs``): exports and erasures, claimed like transcoding jobs.

A claim takes a lease that the worker renews; a worker that dies stops renewing, and the job is
claimed again once the lease runs out. Every write about a job is fenced by the claim that holds
it. An erasure records each finished step (``steps_done``): the next claim skips those, and
each step is idempotent, so an erasure cut short anywhere finishes the same way.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

import msgspec

from core.db import Database

NOTIFY_CHANNEL = "mydrtv_privacy_jobs"

Kind = Literal["export", "erase"]
State = Literal["queued", "running", "done", "failed", "cancelled", "expired"]


class PrivacyJob(msgspec.Struct, frozen=True):
    id: int
    kind: Kind
    user_id: uuid.UUID
    requested_by: uuid.UUID | None
    state: State
    run_after: datetime
    claim: uuid.UUID | None
    attempts: int
    steps_done: list[str]
    counts: dict[str, dict[str, int]]
    progress: float
    archive_key: str | None
    archive_bytes: int | None
    expires_at: datetime | None
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None


_COLUMNS = (
    "id, kind, user_id, requested_by, state, run_after, claim, attempts, steps_done, counts, progress,"
    " archive_key, archive_bytes, expires_at, last_error, created_at, finished_at"
)


def _job(row: dict[str, object]) -> PrivacyJob:
    counts = row["counts"]
    if isinstance(counts, str):
        row = {**row, "counts": msgspec.json.decode(counts)}
    return msgspec.convert(row, PrivacyJob)


class OpenJob(Exception):
    """The user already has an open job of this kind (queued or running)."""


class PrivacyJobs:
    def __init__(self, db: Database, *, lease_seconds: float) -> None:
        self._db = db
        self.lease_seconds = lease_seconds

    async def add(
        self, kind: Kind, user_id: uuid.UUID, *, requested_by: uuid.UUID | None, delay_seconds: float = 0
    ) -> PrivacyJob:
        rows = await self._db.fetch(
            "INSERT INTO privacy_jobs (kind, user_id, requested_by, run_after)"
            " VALUES ({}, {}, {}, now() + make_interval(secs => {}))"
            " ON CONFLICT (user_id, kind) WHERE state IN ('queued', 'running')"
            f" DO NOTHING RETURNING {_COLUMNS}",
            kind,
            user_id,
            requested_by,
            delay_seconds,
        )
        if not rows:
            raise OpenJob(kind)
        await self._db.fetch("SELECT pg_notify({}, '')", NOTIFY_CHANNEL)
        return _job(rows[0])

    async def latest(
        self, kind: Kind, user_id: uuid.UUID, *, by_admin: bool | None = None
    ) -> PrivacyJob | None:
        """The user's newest job of a kind; ``by_admin`` narrows it to jobs an admin asked for
        (True) or the user did (False), so each side sees its own export's link."""
        asked = {None: "", True: " AND requested_by IS NOT NULL", False: " AND requested_by IS NULL"}
        rows = await self._db.fetch(
            f"SELECT {_COLUMNS} FROM privacy_jobs"
            f" WHERE kind = {{}} AND user_id = {{}}{asked[by_admin]} ORDER BY id DESC LIMIT 1",
            kind,
            user_id,
        )
        return _job(rows[0]) if rows else None

    async def get(self, job_id: int) -> PrivacyJob | None:
        rows = await self._db.fetch(f"SELECT {_COLUMNS} FROM privacy_jobs WHERE id = {{}}", job_id)
        return _job(rows[0]) if rows else None

    async def cancel_erasure(self, user_id: uuid.UUID) -> bool:
        """Cancel an erasure still in its grace period (queued); True if there was one."""
        rows = await self._db.fetch(
            "UPDATE privacy_jobs SET state = 'cancelled', finished_at = now(), updated_at = now()"
            " WHERE user_id = {} AND kind = 'erase' AND state = 'queued' RETURNING id",
            user_id,
        )
        return bool(rows)

    async def claim(self, worker: str) -> PrivacyJob | None:
        """The oldest due job, or one whose worker's lease ran out; None when there is none."""
        rows = await self._db.fetch(
            "UPDATE privacy_jobs SET state = 'running', attempts = attempts + 1, worker = {},"
            " claim = gen_random_uuid(), lease_until = now() + make_interval(secs => {}), updated_at = now()"
            " WHERE id = ("
            "   SELECT id FROM privacy_jobs"
            "   WHERE (state = 'queued' AND run_after <= now())"
            "      OR (state = 'running' AND lease_until < now())"
            "   ORDER BY run_after, id FOR UPDATE SKIP LOCKED LIMIT 1)"
            f" RETURNING {_COLUMNS}",
            worker,
            self.lease_seconds,
        )
        return _job(rows[0]) if rows else None

    async def renew(self, job: PrivacyJob) -> bool:
        return await self._fenced(job, "lease_until = now() + make_interval(secs => {})", self.lease_seconds)

    async def step_done(self, job: PrivacyJob, step: str, counts: dict[str, int]) -> bool:
        """Record a finished erasure step and what it erased; False if the claim was lost."""
        return await self._fenced(
            job,
            "steps_done = array_append(steps_done, {}::text),"
            " counts = counts || jsonb_build_object({}::text, {}::jsonb)",
            step,
            step,
            msgspec.json.encode(counts).decode(),
        )

    async def progress(self, job: PrivacyJob, fraction: float) -> bool:
        return await self._fenced(job, "progress = {}", fraction)

    async def finish(self, job: PrivacyJob, **fields: object) -> bool:
        """Mark the job done (with an export's archive fields); inside the transaction that ends it."""
        sets = "".join(f", {name} = {{}}" for name in fields)
        return await self._fenced(
            job,
            "state = 'done', progress = 1, lease_until = NULL, finished_at = now()" + sets,
            *fields.values(),
        )

    async def retry(self, job: PrivacyJob, reason: str, delay_seconds: float) -> bool:
        return await self._fenced(
            job,
            "state = 'queued', last_error = {}, lease_until = NULL,"
            " run_after = now() + make_interval(secs => {})",
            reason,
            delay_seconds,
        )

    async def wait(self, job: PrivacyJob, reason: str, delay_seconds: float) -> bool:
        """Give the job back to be claimed after ``delay_seconds``: a step waits for something
        else to happen first, which costs the job none of its attempts."""
        return await self._fenced(
            job,
            "state = 'queued', last_error = {}, lease_until = NULL, attempts = attempts - 1,"
            " run_after = now() + make_interval(secs => {})",
            reason,
            delay_seconds,
        )

    async def fail(self, job: PrivacyJob, reason: str) -> bool:
        return await self._fenced(
            job, "state = 'failed', last_error = {}, lease_until = NULL, finished_at = now()", reason
        )

    async def release(self, job: PrivacyJob) -> bool:
        """Hand the job back unfinished (its worker is stopping): queued again at once."""
        released = await self._fenced(job, "state = 'queued', attempts = attempts - 1, lease_until = NULL")
        if released:
            await self._db.fetch("SELECT pg_notify({}, '')", NOTIFY_CHANNEL)
        return released

    async def remember_videos(self, user_id: uuid.UUID, videos: list[uuid.UUID]) -> None:
        """The open erasure of ``user_id`` notes the videos it erases (for the storage audit)."""
        await self._db.fetch(
            "UPDATE privacy_jobs SET videos = ARRAY(SELECT DISTINCT unnest(videos || {}::uuid[]))"
            " WHERE user_id = {} AND kind = 'erase' AND state = 'running'",
            videos,
            user_id,
        )

    async def remembered_videos(self, user_id: uuid.UUID) -> list[uuid.UUID]:
        rows = await self._db.fetch(
            "SELECT DISTINCT unnest(videos) AS id FROM privacy_jobs WHERE user_id = {} AND kind = 'erase'",
            user_id,
        )
        return [row["id"] for row in rows]

    async def expired_archives(self) -> list[tuple[int, str]]:
        rows = await self._db.fetch(
            "SELECT id, archive_key FROM privacy_jobs WHERE kind = 'export' AND archive_key IS NOT NULL"
            " AND expires_at < now() ORDER BY expires_at LIMIT 100"
        )
        return [(row["id"], row["archive_key"]) for row in rows]

    async def archive_deleted(self, job_id: int) -> None:
        await self._db.fetch(
            "UPDATE privacy_jobs SET archive_key = NULL, state = 'expired', updated_at = now() WHERE id = {}",
            job_id,
        )

    async def _fenced(self, job: PrivacyJob, assignments: str, *values: object) -> bool:
        rows = await self._db.fetch(
            f"UPDATE privacy_jobs SET {assignments}, updated_at = now()"
            " WHERE id = {} AND state = 'running' AND claim = {} RETURNING id",
            *values,
            job.id,
            job.claim,
        )
        return bool(rows)

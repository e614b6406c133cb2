"""The hard erasure of one user: every part's ``erase`` in the registry's order, then a receipt.

Each finished part is recorded on the job (``steps_done``, with its counts), fenced by the claim:
after a crash the next claim runs the remaining parts only, and the part that was cut short runs
again from its start, which its idempotence makes safe. The receipt is written in the
transaction that ends the job: counts per part and the times, no personal data.
"""

from __future__ import annotations

import logging

import msgspec

from app.privacy.jobs import PrivacyJob, PrivacyJobs
from app.privacy.parts import Registry
from core.db import Database

log = logging.getLogger("mydrtv.privacy")


class LeaseLost(Exception):
    """Another claim holds the job now."""


class Eraser:
    def __init__(self, db: Database, registry: Registry, jobs: PrivacyJobs) -> None:
        self._db = db
        self._registry = registry
        self._jobs = jobs

    async def run(self, job: PrivacyJob) -> None:
        for part in self._registry.parts:
            if part.name in job.steps_done:
                continue
            counts = await part.erase(job.user_id)
            if not await self._jobs.step_done(job, part.name, counts):
                raise LeaseLost
            log.info("erased", extra={"job": job.id, "part": part.name, "counts": counts})
        async with self._db.engine.transaction():
            current = await self._jobs.get(job.id)
            assert current is not None
            await self._db.fetch(
                "INSERT INTO erasure_receipts (job_id, subject, requested_by_admin, requested_at, counts)"
                " VALUES ({}, {}, {}, {}, {}::jsonb) ON CONFLICT (job_id) DO NOTHING",
                job.id,
                job.user_id,
                job.requested_by is not None and job.requested_by != job.user_id,
                job.created_at,
                msgspec.json.encode(current.counts).decode(),
            )
            if not await self._jobs.finish(job):
                raise LeaseLost

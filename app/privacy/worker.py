"""The privacy worker: claims export and erasure jobs and runs them under a renewed lease, and
deletes export archives whose retention ran out.

A step that must wait (the outbox still has to relay events about the user) gives the job back
for ``wait_seconds``; any other failure gives it back after a growing delay, and after
``max_attempts`` claims the job fails for good (an operator reads ``last_error``, fixes the cause
and queues it again: every step is idempotent).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket

from app.privacy.erasure import Eraser, LeaseLost
from app.privacy.events import send_export_progress
from app.privacy.export import Exporter
from app.privacy.jobs import NOTIFY_CHANNEL, PrivacyJob, PrivacyJobs
from app.privacy.outbox import NotYet
from core.db import Database, listening, work_when_notified
from core.tasks import stop_task
from realtime.bus.base import Bus

log = logging.getLogger("mydrtv.privacy")


class PrivacyWorker:
    def __init__(
        self,
        db: Database,
        jobs: PrivacyJobs,
        eraser: Eraser,
        exporter: Exporter | None,
        bus: Bus,
        *,
        poll_seconds: float = 5.0,
        retry_seconds: float = 10.0,
        wait_seconds: float = 1.0,
        max_attempts: int = 10,
    ) -> None:
        self._db = db
        self.jobs = jobs
        self._eraser = eraser
        self._exporter = exporter
        self._bus = bus
        self._poll_seconds = poll_seconds
        self._retry_seconds = retry_seconds
        self._wait_seconds = wait_seconds
        self._max_attempts = max_attempts
        self.name = f"{socket.gethostname()}:{os.getpid()}"
        self._wake = asyncio.Event()

    async def run(self) -> None:
        async with listening(self._db.url, NOTIFY_CHANNEL, self._wake):
            await work_when_notified(self._wake, self.work)

    async def work(self) -> float:
        """Every due job there is, and the archive sweep; how long to wait before looking again."""
        try:
            if self._exporter is not None:
                await self._exporter.sweep()
            while (job := await self.jobs.claim(self.name)) is not None:
                await self.process(job)
        except Exception:
            log.exception("privacy worker failed; retrying")
        return self._poll_seconds

    async def process(self, job: PrivacyJob) -> None:
        lost = asyncio.Event()
        work = asyncio.create_task(self._run(job))
        keeper = asyncio.create_task(self._keep_lease(job, work, lost))
        try:
            await work
        except asyncio.CancelledError:
            if not lost.is_set():  # stopping: hand the job back, attempt unspent
                await self.jobs.release(job)
                raise
            log.warning("privacy job lost its lease", extra={"job": job.id})
        except LeaseLost:
            log.warning("privacy job claimed by another worker", extra={"job": job.id})
        except NotYet as wait:
            await self.jobs.wait(job, str(wait), self._wait_seconds)
        except Exception as exc:
            log.exception("privacy job failed", extra={"job": job.id, "kind": job.kind})
            detail = f"{type(exc).__name__}: {exc}"
            if job.attempts >= self._max_attempts:
                await self.jobs.fail(job, detail)
                if job.kind == "export":
                    await send_export_progress(self._bus, job.user_id, job.id, "failed", 0.0)
            else:
                await self.jobs.retry(job, detail, self._retry_seconds * job.attempts)
        finally:
            await stop_task(keeper)

    async def _run(self, job: PrivacyJob) -> None:
        if job.kind == "erase":
            await self._eraser.run(job)
        elif self._exporter is not None:
            await self._exporter.run(job)
        else:
            raise RuntimeError("exports need object storage (MYDRTV_STORAGE_URL)")

    async def _keep_lease(self, job: PrivacyJob, work: asyncio.Task[None], lost: asyncio.Event) -> None:
        while True:
            await asyncio.sleep(self.jobs.lease_seconds / 3)  # a period, not a wait for an event
            if not await self.jobs.renew(job):
                lost.set()
                work.cancel()
                return

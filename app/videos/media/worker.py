"""The transcoding worker: claims jobs, turns a source into an HLS generation, publishes it.

A job runs in a temporary directory: download the source, probe it, transcode the ladder with
ffmpeg, then store every file under a generation of its own. Only when all of them are stored does
one transaction fence the job (is it still this claim's?), point the video at the new generation
and record the events. A failure at any step deletes what the attempt stored, so no half-written
rendition is ever served.

Bad media (the probe or ffmpeg refuses it) fails the job for good, with ffmpeg's reason. Anything
else (storage or database trouble, a crash) is retried: an exception gives the job back after a
delay; a worker that dies stops renewing its lease and another claims the job when it runs out.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import msgspec

from app.feed import activity
from app.notifications.notify import notify
from app.videos.media.events import MediaProgress, Stage, report_status
from app.videos.media.jobs import NOTIFY_CHANNEL, Job, JobQueue
from app.videos.schemas import Status, Video
from app.videos.service import VideoService
from core.db import Database, listening, work_when_notified
from core.tasks import stop_task
from media.ffmpeg import FfmpegFailed
from media.probe import MediaRejected, probe
from media.storage.base import Storage, guess_content_type
from media.transcode import transcode
from realtime import protocol
from realtime.bus.base import Bus
from realtime.channels import channel_name

log = logging.getLogger("mydrtv.media")

_PROGRESS_SECONDS = 0.5  # progress events per video, at most one this often


class LeaseLost(Exception):
    """The job is no longer this claim's: superseded by a newer upload, or claimed again."""


def hls_prefix(video_id: object, generation: str) -> str:
    return f"videos/{video_id}/hls/{generation}/"


class TranscodeWorker:
    def __init__(
        self,
        db: Database,
        storage: Storage,
        queue: JobQueue,
        bus: Bus,
        videos: VideoService,
        *,
        preset: str,
        segment_seconds: int,
        work_dir: str | None = None,
        poll_seconds: float = 5.0,
        retry_seconds: float = 10.0,
        observe: Callable[[str, float], None] | None = None,
    ) -> None:
        self._db = db
        self._storage = storage
        self.queue = queue
        self._bus = bus
        self._videos = videos
        self._preset = preset
        self._segment_seconds = segment_seconds
        self._work_dir = work_dir or None
        self._poll_seconds = poll_seconds
        self._retry_seconds = retry_seconds
        self.name = f"{socket.gethostname()}:{os.getpid()}"
        self._wake = asyncio.Event()
        self.observe = observe  # told each job's outcome and seconds (the metrics' histogram)

    async def run(self) -> None:
        """Work until cancelled: every job there is, then wait for a notification (or poll)."""
        async with listening(self._db.url, NOTIFY_CHANNEL, self._wake):
            await work_when_notified(self._wake, self._work)

    async def _work(self) -> float:
        """Every job there is; returns how long to wait for a notification before looking again."""
        try:
            while (job := await self.queue.claim(self.name)) is not None:
                await self.process(job)
        except Exception:
            log.exception("transcode worker failed; retrying")
        return self._poll_seconds

    async def process(self, job: Job) -> None:
        """Run one claimed job to its end: ready, failed, retried later, or lost to another claim."""
        video = await self._videos.find(job.video_id)
        if video is None:
            await self.queue.fail(job, "the video was deleted")
            return
        if job.attempts > job.max_attempts:  # its workers kept dying mid-job
            await self._give_up(job, f"processing failed {job.max_attempts} times")
            return
        log.info("transcoding", extra={"job": job.id, "video": str(job.video_id), "attempt": job.attempts})
        async with self._db.engine.transaction():
            await self._set_status(job, "processing", None)
        prefix = hls_prefix(job.video_id, job.generation)
        work = asyncio.create_task(self._produce(job, video, prefix))
        lost = asyncio.Event()
        keeper = asyncio.create_task(self._keep_lease(job, work, lost))
        started = time.monotonic()
        outcome = "released"
        try:
            await work
            await self._publish(job)
            outcome = "ready"
        except asyncio.CancelledError:
            await self._discard(prefix)
            if not lost.is_set():  # shutting down: hand the job back at once, attempt unspent
                await self.queue.release(job)
                raise
            outcome = "dropped"
            log.warning("transcode job lost its lease; dropped", extra={"job": job.id})
        except (MediaRejected, FfmpegFailed) as exc:
            outcome = "failed"
            await self._discard(prefix)
            await self._give_up(job, str(exc))
        except LeaseLost:
            outcome = "dropped"
            await self._discard(prefix)
            log.warning("transcode job superseded; dropped", extra={"job": job.id})
        except Exception as exc:
            log.exception("transcode job failed", extra={"job": job.id})
            await self._discard(prefix)
            detail = f"{type(exc).__name__}: {exc}"  # for operators (transcode_jobs), not viewers
            if job.attempts >= job.max_attempts:
                outcome = "failed"
                await self._give_up(job, f"processing failed {job.attempts} times", detail)
            else:
                outcome = "retried"
                await self.queue.retry(job, detail, self._retry_seconds * job.attempts)
        finally:
            await stop_task(keeper)
            if self.observe is not None:
                self.observe(outcome, time.monotonic() - started)

    async def _produce(self, job: Job, video: Video, prefix: str) -> None:
        progress = _Progress(self._bus, video)
        with tempfile.TemporaryDirectory(prefix="mydrtv-transcode-", dir=self._work_dir) as tmp:
            source = Path(tmp) / "source"
            await self._storage.download(job.source_key, source)
            info = await probe(source)
            out = Path(tmp) / "hls"
            out.mkdir()
            output = await transcode(
                source,
                out,
                info,
                segment_seconds=self._segment_seconds,
                preset=self._preset,
                on_progress=lambda fraction: progress("transcoding", fraction),
            )
            for done, name in enumerate(output.files, start=1):
                await self._storage.put_file(prefix + name, out / name, guess_content_type(name))
                await progress("storing", done / len(output.files))

    async def _keep_lease(self, job: Job, work: asyncio.Task[None], lost: asyncio.Event) -> None:
        while True:
            await asyncio.sleep(self.queue.lease_seconds / 3)  # a period, not a wait for an event
            if not await self.queue.renew(job):
                lost.set()
                work.cancel()
                return

    async def _publish(self, job: Job) -> None:
        generation = job.generation
        async with self._db.engine.transaction():
            if not await self.queue.finish(job):
                raise LeaseLost
            rows = await self._db.fetch(
                "UPDATE videos v SET status = 'ready', failure_reason = NULL, media_generation = {},"
                " previous_generation = old.media_generation, updated_at = now()"
                " FROM (SELECT media_generation, previous_generation FROM videos WHERE id = {} FOR UPDATE)"
                " AS old WHERE v.id = {}"
                " RETURNING old.previous_generation AS retired, old.media_generation IS NULL AS first",
                generation,
                job.video_id,
                job.video_id,
            )
            video = await self._videos.find(job.video_id)
            if video is None or not rows:
                raise LeaseLost  # deleted meanwhile: the purge takes the files
            await report_status(self._db, self._videos, video, "ready")
            await notify(
                self._db,
                video.owner.id,
                "upload_ready",
                group_key=f"video:{video.id}",
                video_id=video.id,
                data={"title": video.title},
            )
            if rows[0]["first"]:  # followers hear of a video once, when it first plays
                await activity.record(self._db, video.owner.id, "uploaded", video_id=video.id)
        await self._videos.changed(job.video_id)  # every instance serves the new generations now
        retired = rows[0]["retired"]
        if retired:
            await self._discard(hls_prefix(job.video_id, retired))
        log.info("transcoded", extra={"job": job.id, "video": str(job.video_id), "generation": generation})

    async def _give_up(self, job: Job, reason: str, detail: str | None = None) -> None:
        """Fail the job for good; ``reason`` is shown to viewers, ``detail`` only kept on the job."""
        async with self._db.engine.transaction():
            if await self.queue.fail(job, detail or reason):
                video = await self._set_status(job, "failed", reason)
                if video is not None:
                    await notify(
                        self._db,
                        video.owner.id,
                        "upload_failed",
                        group_key=f"video:{video.id}",
                        video_id=video.id,
                        data={"title": video.title, "reason": reason},
                    )
        log.warning("transcode failed", extra={"job": job.id, "video": str(job.video_id), "reason": reason})

    async def _set_status(self, job: Job, status: Status, reason: str | None) -> Video | None:
        """Inside a transaction: the video's new status and the events that report it; the video
        (None if it was deleted meanwhile)."""
        await self._db.fetch(
            "UPDATE videos SET status = {}, failure_reason = {}, updated_at = now() WHERE id = {}",
            status,
            reason,
            job.video_id,
        )
        video = await self._videos.find(job.video_id)
        if video is not None:
            await report_status(self._db, self._videos, video, status, reason)
        return video

    async def _discard(self, prefix: str) -> None:
        try:
            await self._storage.delete_prefix(prefix)
        except Exception:
            log.exception("could not delete %s; it is never served, but takes space", prefix)


class _Progress:
    """Ephemeral progress events for the uploader, at most one per ``_PROGRESS_SECONDS``."""

    def __init__(self, bus: Bus, video: Video) -> None:
        self._bus = bus
        self._video = video
        self._last = 0.0

    async def __call__(self, stage: Stage, fraction: float) -> None:
        now = time.monotonic()
        if fraction < 1.0 and now - self._last < _PROGRESS_SECONDS:
            return
        self._last = now
        event = MediaProgress(video_id=self._video.id, stage=stage, fraction=round(fraction, 4))
        channel = channel_name("user", self._video.owner.id)
        frame = protocol.Event(channel=channel, data=msgspec.Raw(msgspec.json.encode(event)))
        await self._bus.broadcast(channel, protocol.encoder.encode(frame))

"""Accepting a video's source file: spool, probe, store, queue its transcode.

The request body is spooled to a local temporary file as it arrives (never held in memory) and
counted against the size limit; ffmpeg probes the file before anything is stored, so a file that is
not a playable video is refused at once with its reason (422) and leaves no trace. A good file goes
to storage (multipart on S3), and one transaction then marks the video ``uploaded``, queues the
job and records the events.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import msgspec

from app.videos.media.events import report_status
from app.videos.media.jobs import JobQueue
from app.videos.schemas import Video
from app.videos.service import VideoService
from core.db import Database
from core.errors import DomainError, NotFound
from core.tokens import Principal
from media.probe import MediaInfo, MediaRejected, probe
from media.storage.base import Storage

_SPOOL_WRITE = 1024 * 1024  # bytes gathered before each write to the spool file


class PayloadTooLarge(DomainError):
    status_code = 413
    code = "upload_too_large"


class Unplayable(DomainError):
    status_code = 422
    code = "not_a_video"


class UploadAccepted(msgspec.Struct):
    video: Video
    job_id: int
    source: MediaInfo


def source_key(video_id: uuid.UUID) -> str:
    return f"videos/{video_id}/sources/{uuid.uuid4()}"


class Uploads:
    def __init__(
        self,
        db: Database,
        storage: Storage,
        videos: VideoService,
        queue: JobQueue,
        *,
        max_bytes: int,
        spool_dir: str | None = None,
    ) -> None:
        self._db = db
        self._storage = storage
        self._videos = videos
        self._queue = queue
        self.max_bytes = max_bytes
        self._spool_dir = spool_dir or None

    def _too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(
            f"the file is larger than the limit of {self.max_bytes} bytes",
            details={"max_bytes": self.max_bytes},
        )

    async def accept(
        self,
        actor: Principal,
        video_id: uuid.UUID,
        body: AsyncIterator[bytes],
        content_length: int | None,
    ) -> UploadAccepted:
        """Take ``body`` as the new source of ``video_id``; only its owner (or an admin) may."""
        await self._videos.managed(video_id, actor)
        if content_length is not None and content_length > self.max_bytes:
            raise self._too_large()  # before reading a byte
        with self._spool() as path:
            await self._receive(body, path)
            return await self.store(video_id, path)

    async def store(self, video_id: uuid.UUID, path: Path) -> UploadAccepted:
        """Probe a local file, store it as ``video_id``'s source and queue its transcode."""
        try:
            info = await probe(path)
        except MediaRejected as exc:
            raise Unplayable(str(exc), code=exc.code) from exc
        key = source_key(video_id)
        await self._storage.put_file(key, path, "application/octet-stream")
        async with self._db.engine.transaction():
            await self._db.fetch(
                "UPDATE videos SET status = 'uploaded', failure_reason = NULL, duration_seconds = {},"
                " source_info = {}, updated_at = now() WHERE id = {}",
                info.duration_seconds,
                msgspec.json.encode(info).decode(),
                video_id,
            )
            video = await self._videos.find(video_id)
            if video is None:  # deleted while the file was being stored
                await self._storage.delete_prefix(key)
                raise NotFound("the video was deleted during the upload", code="video_not_found")
            job_id = await self._queue.enqueue(video_id, key)
            await report_status(self._db, self._videos, video, "uploaded")
            accepted = UploadAccepted(video=video, job_id=job_id, source=info)
        return accepted

    @contextlib.contextmanager
    def _spool(self) -> Iterator[Path]:
        handle, name = tempfile.mkstemp(prefix="mydrtv-upload-", dir=self._spool_dir)
        os.close(handle)
        try:
            yield Path(name)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name)

    async def _receive(self, body: AsyncIterator[bytes], path: Path) -> None:
        received = 0
        pending: list[bytes] = []
        pending_size = 0
        with path.open("wb") as spool:
            async for chunk in body:
                received += len(chunk)
                if received > self.max_bytes:
                    raise self._too_large()
                pending.append(chunk)
                pending_size += len(chunk)
                if pending_size >= _SPOOL_WRITE:
                    await asyncio.to_thread(spool.write, b"".join(pending))
                    pending, pending_size = [], 0
            if pending:
                await asyncio.to_thread(spool.write, b"".join(pending))
        if received == 0:
            raise Unplayable("the upload is empty", code="empty_upload")

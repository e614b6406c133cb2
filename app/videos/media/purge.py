"""Deleting a video's files when the video is deleted: the ``@media`` outbox handler.

The catalog row goes in a transaction that also stores a purge event, so the files go too, even
if the process dies right after the commit (the relay retries; deleting twice is harmless).
"""

from __future__ import annotations

import uuid

import msgspec

from core.db import Database
from media.storage.base import Storage
from realtime.outbox import enqueue

MEDIA_CHANNEL = "@media"


class VideoDeleted(msgspec.Struct, frozen=True):
    video_id: uuid.UUID


async def enqueue_purge(db: Database, video_id: uuid.UUID) -> None:
    """Inside the transaction that deletes the video."""
    await enqueue(db, MEDIA_CHANNEL, msgspec.json.encode(VideoDeleted(video_id)))


class Purger:
    def __init__(self, storage: Storage) -> None:
        self._storage = storage

    async def handle(self, payload: bytes, key: str) -> None:
        video_id = msgspec.json.decode(payload, type=VideoDeleted).video_id
        await self._storage.delete_prefix(f"videos/{video_id}/")

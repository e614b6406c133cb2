"""Watches: clients report that their user watched a video; the graph learns it through the outbox.

One row per user and video keeps the first and last time and a count, so reporting again (every
replay, every device) is cheap and idempotent in effect; the graph keeps the latest time, which
is what "trending" looks at.
"""

from __future__ import annotations

import uuid

from app.social.schemas import Watch
from app.videos.service import VideoService
from core.db import Database
from core.tokens import Principal
from graph.events import WatchChanged, enqueue_change

PURGE_BATCH = 1000  # watch rows deleted (with their graph changes) per transaction


class WatchService:
    def __init__(self, db: Database, videos: VideoService) -> None:
        self._db = db
        self._videos = videos

    async def record(self, viewer: Principal, video_id: uuid.UUID) -> Watch:
        """Count a watch of a video the viewer may see (404 ``video_not_found`` otherwise)."""
        await self._videos.visible(video_id, viewer)
        async with self._db.engine.transaction():
            rows = await self._db.fetch(
                "INSERT INTO watches (user_id, video_id) VALUES ({}, {})"
                " ON CONFLICT (user_id, video_id) DO UPDATE"
                " SET last_watched_at = now(), times = watches.times + 1"
                " RETURNING video_id, first_watched_at, last_watched_at, times",
                viewer.id,
                video_id,
            )
            await enqueue_change(self._db, WatchChanged(str(viewer.id), str(video_id)))
        row = rows[0]
        return Watch(
            video_id=row["video_id"],
            first_watched_at=row["first_watched_at"],
            last_watched_at=row["last_watched_at"],
            times=row["times"],
        )

    async def purge_older_than(self, days: int) -> int:
        """Delete watch history last touched more than ``days`` ago (retention, docs/privacy.md),
        with the graph change of each row so the projection forgets it too; in batches, each one
        transaction. ``days`` 0 keeps everything. Returns how many rows went."""
        if days <= 0:
            return 0
        purged = 0
        while True:
            async with self._db.engine.transaction():
                rows = await self._db.fetch(
                    "DELETE FROM watches WHERE (user_id, video_id) IN ("
                    " SELECT user_id, video_id FROM watches"
                    " WHERE last_watched_at < now() - make_interval(days => {})"
                    " LIMIT {} FOR UPDATE SKIP LOCKED) RETURNING user_id, video_id",
                    days,
                    PURGE_BATCH,
                )
                for row in rows:
                    await enqueue_change(self._db, WatchChanged(str(row["user_id"]), str(row["video_id"])))
            purged += len(rows)
            if len(rows) < PURGE_BATCH:
                return purged

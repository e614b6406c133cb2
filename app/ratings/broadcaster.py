"""Live ``rating`` events, coalesced: at most ``per_second`` per video, and the last state always.

The relay hands every committed rating change (``@ratings``) to ``changed``. A video that was
sent less than an interval ago gets one flush scheduled for the end of the interval; changes
meanwhile join it. A flush reads the totals as they are then (every change committed so far) and
publishes them with their version, so a burst of a thousand ratings becomes a few events, the last
one exact. ``published_version`` in PostgreSQL records what went out: the sweep sends whatever a
crash (or a rating deleted by a cascade) left unsent, so nothing committed stays unpublished.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import uuid

import msgspec

from app.db import Database
from app.ratings.schemas import RatingUpdated, mean
from app.ratings.service import RatingsChanged
from app.tasks import stop_task
from realtime.bus.base import Bus
from realtime.channels import channel_name

log = logging.getLogger("mydrtv.ratings")

_decoder = msgspec.json.Decoder(RatingsChanged)
_encoder = msgspec.json.Encoder()


class RatingBroadcaster:
    def __init__(self, db: Database, bus: Bus, per_second: float, sweep_seconds: float = 5.0) -> None:
        self._db = db
        self._bus = bus
        self._interval = 1.0 / per_second
        self._sweep_seconds = sweep_seconds
        self._sent_at: dict[uuid.UUID, float] = {}
        self._scheduled: dict[uuid.UUID, asyncio.Task[None]] = {}

    async def changed(self, payload: bytes, key: str) -> None:
        """The ``@ratings`` outbox handler."""
        await self.request(_decoder.decode(payload).video_id)

    async def request(self, video_id: uuid.UUID) -> None:
        """Send the video's totals now, or at the end of its interval if it was sent recently."""
        if video_id in self._scheduled:
            return  # the scheduled flush will read the totals this change is part of
        wait = self._sent_at.get(video_id, -math.inf) + self._interval - time.monotonic()
        if wait <= 0:
            await self._send(video_id)
            return
        self._scheduled[video_id] = asyncio.create_task(self._send_later(video_id, wait))

    async def _send_later(self, video_id: uuid.UUID, wait: float) -> None:
        await asyncio.sleep(wait)
        self._scheduled.pop(video_id, None)
        try:
            await self._send(video_id)
        except Exception:
            log.exception("sending rating totals failed; the sweep retries", extra={"video": str(video_id)})

    async def _send(self, video_id: uuid.UUID) -> None:
        now = time.monotonic()
        self._sent_at[video_id] = now  # before any await: a change from here on waits its turn
        if len(self._sent_at) > 10_000:
            self._sent_at = {v: at for v, at in self._sent_at.items() if at > now - self._interval}
        rows = await self._db.fetch(
            "SELECT count, total, histogram, version, published_version FROM rating_totals"
            " WHERE video_id = {}",
            video_id,
        )
        if not rows or rows[0]["version"] <= rows[0]["published_version"]:
            return
        row = rows[0]
        event = RatingUpdated(
            video_id=video_id,
            version=row["version"],
            count=row["count"],
            mean=mean(row["count"], row["total"]),
            histogram=list(row["histogram"]),
        )
        await self._bus.publish(channel_name("video", video_id), _encoder.encode(event))
        await self._db.fetch(
            "UPDATE rating_totals SET published_version = GREATEST(published_version, {})"
            " WHERE video_id = {}",
            row["version"],
            video_id,
        )

    async def sweep(self) -> int:
        """Send totals that changed a while ago and never went out; returns how many videos."""
        rows = await self._db.fetch(
            "SELECT video_id FROM rating_totals WHERE version > published_version"
            " AND changed_at < now() - make_interval(secs => {}) ORDER BY changed_at LIMIT 500",
            max(1.0, 2 * self._interval),
        )
        for row in rows:
            await self.request(row["video_id"])
        return len(rows)

    async def run(self) -> None:
        """Sweep until cancelled."""
        try:
            while True:
                await asyncio.sleep(self._sweep_seconds)
                try:
                    await self.sweep()
                except Exception:
                    log.exception("rating sweep failed; retrying")
        finally:
            for task in self._scheduled.values():
                task.cancel()
            for task in list(self._scheduled.values()):
                await stop_task(task)

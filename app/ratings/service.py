"""Setting, changing and removing a rating, and reading a video's totals.

The totals are kept by a trigger on ``ratings`` (migration m0005_2), inside the same statement,
so they are exact however many people rate at once. Each change also queues, in its transaction,
the graph projection's change, the rater's activity (not for a removal) and a ``@ratings`` event
that the ``RatingBroadcaster`` turns into coalesced live updates.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec

from app.feed.activity import record
from app.moderation.policy import ModerationPolicy
from app.moderation.throttle import Throttle, rule
from app.ratings.schemas import RatingSummary, mean
from app.videos.service import VideoService
from core.db import Database
from core.tokens import Principal
from graph.events import RatingChanged, enqueue_change
from realtime.outbox import enqueue

RATINGS_CHANNEL = "@ratings"  # internal outbox channel: handled by RatingBroadcaster.changed


class RatingsChanged(msgspec.Struct, frozen=True):
    """The ``@ratings`` payload: whose totals to send; the broadcaster reads them itself."""

    video_id: uuid.UUID


_SUMMARY = """
SELECT t.count, t.total, t.histogram, t.version,
       (SELECT stars FROM ratings WHERE video_id = {} AND user_id = {}) AS mine
FROM (SELECT 1) AS one LEFT JOIN rating_totals t ON t.video_id = {}
"""


def _summary(video_id: uuid.UUID, row: dict[str, Any]) -> RatingSummary:
    count, total = int(row["count"] or 0), int(row["total"] or 0)
    return RatingSummary(
        video_id=video_id,
        count=count,
        mean=mean(count, total),
        histogram=list(row["histogram"] or [0, 0, 0, 0, 0]),
        version=int(row["version"] or 0),
        mine=row["mine"],
    )


class RatingService:
    def __init__(
        self, db: Database, videos: VideoService, policy: ModerationPolicy, throttle: Throttle, rate: str
    ) -> None:
        self._db = db
        self._videos = videos
        self._policy = policy
        self._throttle = throttle
        self._rate = rule(rate)

    async def _read(self, video_id: uuid.UUID, viewer: Principal | None) -> RatingSummary:
        (row,) = await self._db.fetch(_SUMMARY, video_id, viewer.id if viewer else None, video_id)
        return _summary(video_id, row)

    async def summary(self, video_id: uuid.UUID, viewer: Principal | None) -> RatingSummary:
        await self._videos.visible(video_id, viewer)
        return await self._read(video_id, viewer)

    async def _may_rate(self, user: Principal, video_id: uuid.UUID) -> None:
        await self._videos.visible(video_id, user)
        await self._policy.may_participate(user, video_id)
        await self._throttle.hit(
            self._rate, "rating", str(user.id), code="too_fast", message="too many ratings; wait a little"
        )

    async def rate(self, user: Principal, video_id: uuid.UUID, stars: int) -> RatingSummary:
        """Set or change the caller's stars; the same stars again change nothing."""
        await self._may_rate(user, video_id)
        async with self._db.engine.transaction():
            changed = await self._db.fetch(
                "INSERT INTO ratings (video_id, user_id, stars) VALUES ({}, {}, {})"
                " ON CONFLICT (video_id, user_id) DO UPDATE SET stars = EXCLUDED.stars, updated_at = now()"
                " WHERE ratings.stars <> EXCLUDED.stars RETURNING stars",
                video_id,
                user.id,
                stars,
            )
            if changed:
                await self._changed(user, video_id)
                await record(self._db, user.id, "rated", video_id=video_id, data={"stars": stars})
            summary = await self._read(video_id, user)
        return summary

    async def unrate(self, user: Principal, video_id: uuid.UUID) -> RatingSummary:
        """Remove the caller's rating; removing none is not an error."""
        await self._may_rate(user, video_id)
        async with self._db.engine.transaction():
            removed = await self._db.fetch(
                "DELETE FROM ratings WHERE video_id = {} AND user_id = {} RETURNING stars", video_id, user.id
            )
            if removed:
                await self._changed(user, video_id)
            summary = await self._read(video_id, user)
        return summary

    async def _changed(self, user: Principal, video_id: uuid.UUID) -> None:
        await enqueue_change(self._db, RatingChanged(video_id=str(video_id), user_id=str(user.id)))
        await enqueue(self._db, RATINGS_CHANNEL, msgspec.json.encode(RatingsChanged(video_id)))

"""REST endpoints of ratings: a video's totals and the caller's own stars."""

from __future__ import annotations

import uuid

from litestar import Controller, delete, get, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from app.ratings.schemas import NewRating, RatingSummary
from app.ratings.service import RatingService
from core.tokens import Principal


class RatingController(Controller):
    tags = ("ratings",)
    path = "/videos/{video_id:uuid}/rating"

    @get()
    async def summary(
        self,
        video_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal | None],
        ratings: NamedDependency[RatingService],
    ) -> RatingSummary:
        """Count, mean, histogram and version; ``mine`` when signed in."""
        return await ratings.summary(video_id, viewer)

    @put()
    async def rate(
        self,
        video_id: FromPath[uuid.UUID],
        data: JSONBody[NewRating],
        principal: NamedDependency[Principal],
        ratings: NamedDependency[RatingService],
    ) -> RatingSummary:
        """Set or change the caller's stars (1-5)."""
        return await ratings.rate(principal, video_id, data.stars)

    @delete(status_code=200)
    async def unrate(
        self,
        video_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal],
        ratings: NamedDependency[RatingService],
    ) -> RatingSummary:
        """Remove the caller's rating; answers with the totals after it."""
        return await ratings.unrate(principal, video_id)

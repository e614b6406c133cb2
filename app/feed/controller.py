"""REST endpoint of the activity feed."""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import NamedDependency

from app.feed.schemas import FeedPage
from app.feed.service import FeedService
from core.pagination import Cursor, Limit
from core.tokens import Principal


class FeedController(Controller):
    tags = ("feed",)

    @get("/me/feed")
    async def feed(
        self,
        principal: NamedDependency[Principal],
        feed: NamedDependency[FeedService],
        cursor: Cursor = None,
        limit: Limit = 20,
    ) -> FeedPage:
        """What the people you follow did, newest first; new items also arrive live on ``user:{id}``."""
        return await feed.page(principal, cursor, limit)

"""Video recommendations from the social graph, each with the reason it was picked.

Videos that people the user follows rated 4+ or watched come first, friends (mutual follows) and
recent activity weighing more; a user with nobody to learn from (or too few picks) gets globally
popular videos after them. The graph proposes; PostgreSQL has the last word: the catalog's rule
decides which videos the user may see (``VideoService.visible_among``), and videos the user has
watched or rated since the graph last heard are dropped.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from app.auth.tokens import Principal
from app.db import Database
from app.social.graph_reads import run_read
from app.social.schemas import Reason, VideoRecommendation
from app.videos.service import VideoService
from graph import queries
from graph.base import Graph

GOOD_STARS = 4  # a rating this high counts as a recommendation
TRENDING_DAYS = 7  # friends' activity this recent makes a video trending
TRENDING_FRIENDS = 2  # ... when this many friends took part


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def explain(row: dict[str, Any]) -> tuple[Reason, str]:
    """The strongest signal behind a social pick, as a code and a sentence."""
    recent, rated_friends = int(row["recent_friends"]), int(row["rated_friends"])
    rated, watched_friends = int(row["rated_following"]), int(row["watched_friends"])
    if recent >= TRENDING_FRIENDS:
        return (
            "trending_among_friends",
            f"trending among your friends: {recent} watched or rated it this week",
        )
    if rated_friends:
        return "rated_by_friends", f"{_count(rated_friends, 'friend', 'friends')} rated this {GOOD_STARS}+"
    if rated:
        return (
            "rated_by_following",
            f"{_count(rated, 'person', 'people')} you follow rated this {GOOD_STARS}+",
        )
    if watched_friends:
        return "watched_by_friends", f"{_count(watched_friends, 'friend', 'friends')} watched this"
    watched = int(row["watched_following"])
    return "watched_by_following", f"{_count(watched, 'person', 'people')} you follow watched this"


def explain_popular(row: dict[str, Any]) -> tuple[Reason, str]:
    fans = int(row["popularity"])
    return (
        "popular",
        f"popular on MyDRTV: {_count(fans, 'person', 'people')} rated it {GOOD_STARS}+ or watched it",
    )


class VideoRecommendations:
    def __init__(
        self,
        db: Database,
        graph: Graph | None,
        videos: VideoService,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._db = db
        self._graph = graph
        self._videos = videos
        self._clock = clock

    async def recommend(self, viewer: Principal, limit: int) -> list[VideoRecommendation]:
        wanted = 2 * limit + 10  # room for what the visibility and watched checks drop
        user = str(viewer.id)
        since = int(self._clock()) - TRENDING_DAYS * 86_400
        picks: dict[uuid.UUID, tuple[Reason, str]] = {}
        for row in await run_read(
            self._graph, queries.SOCIAL_VIDEOS, user=user, stars=GOOD_STARS, since=since, limit=wanted
        ):
            picks.setdefault(uuid.UUID(row["id"]), explain(row))
        if len(picks) < wanted:
            for row in await run_read(self._graph, queries.POPULAR_VIDEOS, user=user, limit=wanted):
                picks.setdefault(uuid.UUID(row["id"]), explain_popular(row))
        ids = list(picks)
        seen = {
            row["video_id"]
            for row in await self._db.fetch(
                "SELECT video_id FROM watches WHERE user_id = {} AND video_id = ANY({})"
                " UNION SELECT video_id FROM ratings WHERE user_id = {} AND video_id = ANY({})",
                *(viewer.id, ids, viewer.id, ids),
            )
        }
        visible = await self._videos.visible_among([i for i in ids if i not in seen], viewer)
        return [
            VideoRecommendation(video=visible[video_id], reason=reason, explanation=text)
            for video_id, (reason, text) in picks.items()
            if video_id in visible and visible[video_id].visibility != "unlisted"
        ][:limit]

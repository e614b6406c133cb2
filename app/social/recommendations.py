"""Video recommendations from the social graph, each with the reason it was picked.

Videos that people the user follows rated 4+ or watched come first, friends (mutual follows) and
recent activity weighing more; a user with nobody to learn from (or too few picks) gets globally
popular videos after them. The popular list is the same for everyone, so it is read from the
graph at most every ``popular_seconds`` and shared.

The graph proposes; PostgreSQL has the last word: the catalog's rule decides which videos the
user may see (``VideoService.visible_among``); videos the user has watched or rated since the
graph last heard, and videos of people blocked either way, are dropped.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import msgspec

from app.social.graph_reads import graph_needed, run_read
from app.social.naming import Named, Naming
from app.social.rankings import HEAVY_PATHS, consent_and_ranking
from app.social.schemas import Reason, VideoRecommendation
from app.videos.schemas import Video
from app.videos.service import VideoService, playable
from core.db import Database
from core.tokens import Principal
from graph import queries
from graph.base import Graph

GOOD_STARS = 4  # a rating this high counts as a recommendation
TRENDING_DAYS = 7  # friends' activity this recent makes a video trending
TRENDING_FRIENDS = 2  # ... when this many friends took part
SLACK = 10  # picks checked beyond the page at first, for those the checks leave out
POPULAR = 200  # popular videos kept for everyone; each user's own and watched ones are dropped from it
# (person followed, video) signals the graph counts per live read, at most (when no stored ranking
# is usable, app/social/rankings.py): heavier users get bounded picks until theirs are stored.
PATH_BUDGET = HEAVY_PATHS


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


def explain_named(reason: Reason, named: Named) -> str:
    """The sentence of a social pick that names who is behind it."""
    who = named.sentence()
    if reason == "trending_among_friends":
        return f"trending among your friends: {who} watched or rated it this week"
    if reason in ("rated_by_friends", "rated_by_following"):
        return f"{who} rated this {GOOD_STARS}+"
    return f"{who} watched this"


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
        popular_seconds: float = 30.0,
        naming: Naming | None = None,
        path_budget: int = PATH_BUDGET,
    ) -> None:
        self._db = db
        self._graph = graph
        self._videos = videos
        self._naming = naming  # without it, explanations give counts
        self._clock = clock
        self._popular_seconds = popular_seconds
        self._path_budget = path_budget
        self._popular: tuple[float, list[dict[str, Any]]] = (float("-inf"), [])

    async def popular(self) -> list[dict[str, Any]]:
        """The globally popular videos (id, popularity, owner), shared by every user for a while."""
        now = self._clock()
        if self._popular[0] + self._popular_seconds <= now:
            self._popular = (now, await run_read(self._graph, queries.POPULAR_VIDEOS, limit=POPULAR))
        return self._popular[1]

    async def recommend(self, viewer: Principal, limit: int) -> list[VideoRecommendation]:
        """A user who withdrew personalization gets the popular videos only, not even filtered by
        what they watched or rated: nothing of their activity shapes the list."""
        wanted = 2 * limit + 10  # room for what the visibility check drops
        user = str(viewer.id)
        since = int(self._clock()) - TRENDING_DAYS * 86_400
        picks: dict[uuid.UUID, tuple[Reason, str]] = {}
        graph_needed(self._graph)  # a server without a graph has no recommendations to make
        state = await consent_and_ranking(self._db, viewer.id, "videos")  # one round trip for all
        personal = state.personal
        if personal:
            rows = state.ranking
            if rows is None:
                rows = await run_read(
                    self._graph,
                    queries.SOCIAL_VIDEOS,
                    user=user,
                    stars=GOOD_STARS,
                    since=since,
                    limit=wanted,
                    withdrawn=state.withdrawn,
                    paths=self._path_budget,
                )
            for row in rows[:wanted]:
                picks.setdefault(uuid.UUID(row["id"]), explain(row))
        if len(picks) < wanted:
            for row in await self.popular():
                if row["owner"] != user:
                    picks.setdefault(uuid.UUID(row["id"]), explain_popular(row))
        # Which picks are hidden and which the viewer may see, asked at once (two connections),
        # for the first ``limit`` + ``SLACK`` picks; the next ones only when too many of those
        # were left out. Of the first ``wanted`` picks not hidden, the visible ones are shown.
        ordered = list(picks)
        shown: list[uuid.UUID] = []
        visible: dict[uuid.UUID, Video] = {}
        unseen = position = 0
        chunk = limit + SLACK
        while len(shown) < limit and unseen < wanted and position < len(ordered):
            batch = ordered[position : position + chunk]
            position, chunk = position + len(batch), 2 * chunk
            hidden, found = await asyncio.gather(
                self._hidden(viewer.id, batch, seen_too=personal),
                self._videos.visible_among(batch, viewer),
            )
            visible |= found
            for video_id in batch:
                if video_id in hidden or unseen >= wanted:
                    continue
                unseen += 1
                video = found.get(video_id)
                if video is not None and playable(video) and video.visibility != "unlisted":
                    shown.append(video_id)
        return await self._named(
            viewer,
            [
                VideoRecommendation(
                    video=visible[video_id], reason=picks[video_id][0], explanation=picks[video_id][1]
                )
                for video_id in shown[:limit]
            ],
        )

    async def _named(self, viewer: Principal, picks: list[VideoRecommendation]) -> list[VideoRecommendation]:
        """The social picks with the people behind them named, where PostgreSQL knows of any."""
        if self._naming is None:
            return picks
        since = datetime.fromtimestamp(self._clock() - TRENDING_DAYS * 86_400, UTC)
        reasons = {pick.video.id: pick.reason for pick in picks if pick.reason != "popular"}
        named = await self._naming.video_people(viewer.id, reasons, GOOD_STARS, since)
        return [
            msgspec.structs.replace(
                pick,
                explanation=explain_named(pick.reason, named[pick.video.id]),
                people=named[pick.video.id].people,
                others=named[pick.video.id].others,
            )
            if pick.video.id in named and named[pick.video.id].people
            else pick
            for pick in picks
        ]

    async def _hidden(
        self, user_id: uuid.UUID, video_ids: list[uuid.UUID], *, seen_too: bool
    ) -> set[uuid.UUID]:
        """Which of these are by someone blocked either way or, with ``seen_too``, the user
        watched or rated (maybe after the graph last heard): one round trip, as it runs on every
        request. A user who withdrew personalization is not filtered by their own activity."""
        seen = (
            "SELECT video_id FROM watches WHERE user_id = {} AND video_id = ANY({})"
            " UNION SELECT video_id FROM ratings WHERE user_id = {} AND video_id = ANY({}) UNION "
        )
        blocked = (
            "SELECT v.id AS video_id FROM videos v JOIN blocks b"
            " ON b.blocker_id = {} AND b.blocked_id = v.owner_id WHERE v.id = ANY({})"
            " UNION SELECT v.id FROM videos v JOIN blocks b"
            " ON b.blocked_id = {} AND b.blocker_id = v.owner_id WHERE v.id = ANY({})"
        )
        rows = await self._db.fetch(
            (seen if seen_too else "") + blocked, *([user_id, video_ids] * (4 if seen_too else 2))
        )
        return {row["video_id"] for row in rows}

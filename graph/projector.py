"""The projector: keeps the graph equal to PostgreSQL, one change at a time.

It is the ``@graph`` outbox handler. A change names a key (a pair of users, a video, a rating);
the projector reads that key's current state from PostgreSQL and writes exactly that to the graph,
with MERGE or DELETE. Applying a change twice, late, or out of order therefore ends in the same
graph, which the outbox's at-least-once delivery needs.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from core.db import Database
from graph import queries
from graph.base import Graph
from graph.events import (
    BlockChanged,
    DismissalChanged,
    FollowChanged,
    GraphChange,
    MuteChanged,
    RatingChanged,
    UserChanged,
    VideoChanged,
    WatchChanged,
    decoder,
)
from graph.queries import Query

# table, its two user columns, and the set/delete queries of the edge it projects to
_USER_EDGES: dict[type, tuple[str, str, str, Query, Query]] = {
    BlockChanged: ("blocks", "blocker_id", "blocked_id", queries.SET_BLOCK, queries.DELETE_BLOCK),
    MuteChanged: ("mutes", "muter_id", "muted_id", queries.SET_MUTE, queries.DELETE_MUTE),
    DismissalChanged: (
        "suggestion_dismissals",
        "user_id",
        "dismissed_id",
        queries.SET_DISMISSAL,
        queries.DELETE_DISMISSAL,
    ),
}

# A video's popularity: people who rated it 4+ plus people who watched it, counting only those
# whose activity may personalize (``users.personalization``, docs/privacy.md): the popular list
# is a recommendation too. The rebuild counts the same way (``graph/rebuild.py``).
POPULARITY_SQL = (
    "(SELECT count(*) FROM ratings r JOIN users p ON p.id = r.user_id"
    " WHERE r.video_id = v.id AND r.stars >= 4 AND p.personalization)"
    " + (SELECT count(*) FROM watches w JOIN users p ON p.id = w.user_id"
    " WHERE w.video_id = v.id AND p.personalization)"
)
FOLLOWERS_SQL = "(SELECT count(*) FROM follows f WHERE f.followee_id = u.id)"


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


class Projector:
    def __init__(self, db: Database, graph: Graph) -> None:
        self.db = db
        self.graph = graph

    async def handle(self, payload: bytes, key: str) -> None:
        """The ``@graph`` outbox handler; ``key`` is not needed, replays are harmless."""
        await self.graph.setup()
        await self.apply(decoder.decode(payload))

    async def apply(self, change: GraphChange) -> None:
        match change:
            case VideoChanged(video_id=video_id):
                await self._video(video_id)
            case RatingChanged(video_id=video_id, user_id=user_id):
                await self._rating(user_id, video_id)
            case WatchChanged(user_id=user_id, video_id=video_id):
                await self._watch(user_id, video_id)
            case FollowChanged(follower_id=follower, followee_id=followee):
                await self._follow(follower, followee)
            case UserChanged(user_id=user_id):
                await self._user(user_id)
            case BlockChanged() | MuteChanged() | DismissalChanged():
                await self._user_edge(change)

    async def _one(self, sql: str, *args: Any) -> dict[str, Any] | None:
        rows = await self.db.fetch(sql, *args)
        return rows[0] if rows else None

    async def _user(self, user_id: str) -> None:
        row = await self._one(
            f"SELECT {FOLLOWERS_SQL} AS followers FROM users u WHERE u.id = {{}}", _id(user_id)
        )
        if row is None:
            await self.graph.run(queries.DELETE_USER, id=user_id)
        else:
            await self.graph.run(queries.SET_USER, id=user_id, followers=row["followers"])

    async def _follow(self, follower: str, followee: str) -> None:
        row = await self._one(
            f"SELECT {FOLLOWERS_SQL} AS followers,"
            " (SELECT created_at FROM follows WHERE follower_id = {} AND followee_id = u.id) AS at"
            " FROM users u WHERE u.id = {}",
            _id(follower),
            _id(followee),
        )
        if row is None:  # the followee is gone; so is every edge of theirs
            await self.graph.run(queries.DELETE_USER, id=followee)
        elif row["at"] is None:
            await self.graph.run(
                queries.DELETE_FOLLOW, source=follower, target=followee, followers=row["followers"]
            )
        else:
            params = {
                "source": follower,
                "target": followee,
                "at": epoch(row["at"]),
                "followers": row["followers"],
            }
            await self.graph.run(queries.SET_FOLLOW, **params)

    async def _user_edge(self, change: BlockChanged | MuteChanged | DismissalChanged) -> None:
        table, left, right, set_edge, delete_edge = _USER_EDGES[type(change)]
        first, second = (getattr(change, name) for name in type(change).__struct_fields__)
        row = await self._one(
            f"SELECT created_at FROM {table} WHERE {left} = {{}} AND {right} = {{}}", _id(first), _id(second)
        )
        ends = {"source": first, "target": second}
        if row is None:
            await self.graph.run(delete_edge, **ends)
        else:
            await self.graph.run(set_edge, at=epoch(row["created_at"]), **ends)

    async def _video_state(self, video_id: str) -> dict[str, Any] | None:
        row = await self._one(
            f"SELECT v.visibility, v.owner_id, {POPULARITY_SQL} AS popularity"
            " FROM videos v WHERE v.id = {}",
            _id(video_id),
        )
        if row is None:
            return None
        return {
            "video": video_id,
            "visibility": row["visibility"],
            "owner": str(row["owner_id"]),
            "popularity": row["popularity"],
        }

    async def _video(self, video_id: str) -> None:
        state = await self._video_state(video_id)
        if state is None:
            await self.graph.run(queries.DELETE_VIDEO, video=video_id)
        else:
            await self.graph.run(queries.SET_VIDEO, **state)

    async def _rating(self, user_id: str, video_id: str) -> None:
        row = await self._one(
            "SELECT stars, updated_at FROM ratings WHERE user_id = {} AND video_id = {}",
            _id(user_id),
            _id(video_id),
        )
        state = await self._video_state(video_id)
        if row is None or state is None:
            await self.graph.run(queries.DELETE_RATING, user=user_id, video=video_id)
            await self._video(video_id)  # its popularity changed, or it is gone
        else:
            await self.graph.run(
                queries.SET_RATING, user=user_id, stars=row["stars"], at=epoch(row["updated_at"]), **state
            )

    async def _watch(self, user_id: str, video_id: str) -> None:
        row = await self._one(
            "SELECT last_watched_at FROM watches WHERE user_id = {} AND video_id = {}",
            _id(user_id),
            _id(video_id),
        )
        state = await self._video_state(video_id)
        if row is None or state is None:
            await self.graph.run(queries.DELETE_WATCH, user=user_id, video=video_id)
            await self._video(video_id)
        else:
            await self.graph.run(queries.SET_WATCH, user=user_id, at=epoch(row["last_watched_at"]), **state)


def _id(text: str) -> uuid.UUID | None:
    """A change's id as a UUID; a malformed one matches no row (and is then deleted from the graph)."""
    try:
        return uuid.UUID(text)
    except ValueError:
        return None

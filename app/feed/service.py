"""The activity feed: what the people a user follows did, newest first.

Activities are stored once, by their actor (``app/feed/activity.py``); a feed is read, not
copied: the activities of the people the reader follows, through ``activities_by_actor``. What
the reader may see is decided when they read, so a block, a mute or a video turned private takes
effect at once, also for older items:

- activities of muted actors are left out;
- activities whose actor, subject or video's owner blocked the reader, or was blocked by them,
  are left out;
- activities about a video the reader may not see (the catalog's rule), or that cannot be played
  (a draft, a first upload not transcoded yet, a failed one), are left out.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec

from app.feed.schemas import FeedItem, FeedPage, VideoRef
from app.videos.schemas import UserRef
from app.videos.service import VideoService, playable
from core.db import Database
from core.pagination import Keyset, encode_cursor
from core.tokens import Principal

_SELECT = """
SELECT a.id, a.verb, a.object_id, a.data, a.created_at, a.video_id, v.title AS video_title,
       a.actor_id, actor.handle AS actor_handle, a.subject_id, subject.handle AS subject_handle
FROM activities a
JOIN users actor ON actor.id = a.actor_id
LEFT JOIN users subject ON subject.id = a.subject_id
LEFT JOIN videos v ON v.id = a.video_id
"""

# What a reader may not see, but videos; takes the reader three times.
_READABLE = """
NOT EXISTS (SELECT 1 FROM mutes m WHERE m.muter_id = {} AND m.muted_id = a.actor_id)
AND NOT EXISTS (
    SELECT 1 FROM blocks b
    WHERE (b.blocker_id = {} AND b.blocked_id IN (a.actor_id, a.subject_id, v.owner_id))
       OR (b.blocked_id = {} AND b.blocker_id IN (a.actor_id, a.subject_id, v.owner_id)))
"""
_NEWEST = Keyset(("a.id",), ("id",), tuple[int])


def _item(row: dict[str, Any]) -> FeedItem:
    return FeedItem(
        id=row["id"],
        actor=UserRef(id=row["actor_id"], handle=row["actor_handle"]),
        verb=row["verb"],
        video=VideoRef(id=row["video_id"], title=row["video_title"]) if row["video_id"] else None,
        subject=UserRef(id=row["subject_id"], handle=row["subject_handle"]) if row["subject_id"] else None,
        object_id=row["object_id"],
        data=msgspec.json.decode(row["data"]) if isinstance(row["data"], str | bytes) else row["data"],
        created_at=row["created_at"],
    )


class FeedService:
    def __init__(self, db: Database, videos: VideoService) -> None:
        self._db = db
        self._videos = videos

    async def _visible(self, rows: list[dict[str, Any]], reader: Principal) -> list[FeedItem]:
        videos = await self._videos.visible_among(
            list({row["video_id"] for row in rows if row["video_id"]}), reader
        )
        return [
            _item(row)
            for row in rows
            if row["video_id"] is None or (row["video_id"] in videos and playable(videos[row["video_id"]]))
        ]

    async def page(self, reader: Principal, cursor: str | None, limit: int) -> FeedPage:
        conditions = ["a.actor_id IN (SELECT followee_id FROM follows WHERE follower_id = {})", _READABLE]
        values = [reader.id, reader.id, reader.id, reader.id]
        key = _NEWEST.decode(cursor)
        items: list[FeedItem] = []
        while len(items) <= limit:
            after, past = _NEWEST.after(key)
            rows = await self._db.fetch(
                _SELECT + " WHERE " + " AND ".join([*conditions, *after]) + _NEWEST.order(),
                *values,
                *past,
                limit + 1,
            )
            items += await self._visible(rows, reader)
            if len(rows) <= limit:
                break
            key = (rows[-1]["id"],)  # some were hidden videos: read on to fill the page
        last = items[limit - 1] if len(items) > limit else None
        return FeedPage(items=items[:limit], next_cursor=encode_cursor(last.id) if last else None)

    async def item(self, activity_id: int, reader: Principal) -> FeedItem | None:
        """One activity as ``reader`` would see it in their feed; ``None`` if it is hidden from them."""
        rows = await self._db.fetch(
            _SELECT + " WHERE a.id = {} AND " + _READABLE, activity_id, reader.id, reader.id, reader.id
        )
        visible = await self._visible(rows, reader)
        return visible[0] if visible else None

    async def reader(self, user_id: uuid.UUID) -> Principal | None:
        """A follower as a reader (their role decides which private videos they may see)."""
        rows = await self._db.fetch("SELECT id, handle, role FROM users WHERE id = {}", user_id)
        return Principal(id=rows[0]["id"], handle=rows[0]["handle"], role=rows[0]["role"]) if rows else None

"""Wire types of the activity feed: the REST page and the live ``feed.item`` event."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec

from app.feed.activity import Verb
from app.videos.schemas import UserRef


class VideoRef(msgspec.Struct):
    id: uuid.UUID
    title: str


class FeedItem(msgspec.Struct):
    id: int  # the activity's id; newer activities have larger ids
    actor: UserRef  # who did it: someone the reader follows
    verb: Verb  # rated, commented, started_party, followed, uploaded
    video: VideoRef | None  # the video it concerns, if any
    subject: UserRef | None  # the user it concerns (whom the actor followed), if any
    object_id: str | None  # the feature's own object (comment id, party id), if any
    data: dict[str, Any]  # the feature's details, e.g. {"stars": 5} for "rated"
    created_at: datetime


class FeedPage(msgspec.Struct):
    items: list[FeedItem]
    next_cursor: str | None  # pass as ``cursor`` for older items; null on the last page


class FeedItemAdded(msgspec.Struct, tag="feed.item", frozen=True):
    """Published on ``user:{id}`` when someone that user follows does something (docs/protocol.md)."""

    item: FeedItem

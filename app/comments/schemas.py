"""Wire types of comments: requests, the comment itself, pages."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from app.videos.schemas import UserRef
from core.params import BigInt

Position = Annotated[float, msgspec.Meta(ge=0, le=7 * 24 * 3600)]
Reason = Annotated[str, msgspec.Meta(max_length=500)]


class NewComment(msgspec.Struct, forbid_unknown_fields=True):
    body: str  # plain text; checked for emptiness and length by the service (clear error codes)
    parent_id: BigInt | None = None  # reply to this comment (it and the reply share a thread)
    position_seconds: Position | None = None  # anchor in the media, for replay to later viewers


class CommentChange(msgspec.Struct, forbid_unknown_fields=True):
    body: str


class Comment(msgspec.Struct):
    id: int
    video_id: uuid.UUID
    author: UserRef
    body: str
    parent_id: int | None  # the comment this one answers; null for a top-level comment
    root_id: int | None  # the top-level comment of its thread; null for a top-level comment
    position_seconds: float | None
    status: Literal["visible", "held"]  # held: awaiting review, shown to its author and moderators
    reply_count: int  # visible replies in its thread (top-level comments; 0 for replies)
    created_at: datetime
    edited_at: datetime | None


class CommentPage(msgspec.Struct):
    items: list[Comment]
    next_cursor: str | None  # pass as ``cursor`` for the next page; null on the last page


class NewReport(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class ModeratorNote(msgspec.Struct, forbid_unknown_fields=True):
    """Why a moderator acted; kept in the audit log."""

    reason: Reason = ""

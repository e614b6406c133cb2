"""Wire types of moderation: restrictions, slow mode, held words, the queue and the audit log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from app.comments.schemas import Comment
from app.videos.schemas import UserRef

Reason = Annotated[str, msgspec.Meta(max_length=500)]
MAX_TIMEOUT_SECONDS = 30 * 24 * 3600


class NewRestriction(msgspec.Struct, forbid_unknown_fields=True):
    user_id: uuid.UUID
    kind: Literal["timeout", "ban"]  # a timeout stops commenting; a ban also rating and reporting
    video_id: uuid.UUID | None = None  # on this video only; null: everywhere
    # How long; null (bans only): until a moderator lifts it.
    seconds: Annotated[int, msgspec.Meta(ge=1, le=MAX_TIMEOUT_SECONDS)] | None = None
    reason: Reason = ""


class Restriction(msgspec.Struct):
    id: int
    user: UserRef
    kind: Literal["timeout", "ban"]
    video_id: uuid.UUID | None
    reason: str
    created_by: UserRef | None
    created_at: datetime
    ends_at: datetime | None
    lifted_at: datetime | None


class RestrictionPage(msgspec.Struct):
    items: list[Restriction]
    next_cursor: str | None


class Lift(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason = ""


class SlowModeChange(msgspec.Struct, forbid_unknown_fields=True):
    seconds: Annotated[int, msgspec.Meta(ge=0, le=86400)]  # 0 turns slow mode off
    reason: Reason = ""


class SlowMode(msgspec.Struct):
    video_id: uuid.UUID
    seconds: int  # one comment per user every this many seconds; 0: off


class SlowModeChanged(msgspec.Struct, tag="slow_mode", frozen=True):
    """Published on ``video:{id}`` so clients can show (and respect) the new pace."""

    video_id: uuid.UUID
    seconds: int


class NewHeldWord(msgspec.Struct, forbid_unknown_fields=True):
    word: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    video_id: uuid.UUID | None = None  # on this video only; null: every video
    reason: Reason = ""


class HeldWord(msgspec.Struct):
    id: int
    word: str
    video_id: uuid.UUID | None
    created_at: datetime


class HeldWordPage(msgspec.Struct):
    items: list[HeldWord]  # oldest first
    next_cursor: str | None


class QueueItem(msgspec.Struct):
    comment: Comment
    why: Literal["held", "reported"]
    reports: int  # open reports
    report_reasons: list[str]  # the latest few
    waiting_since: datetime


class QueuePage(msgspec.Struct):
    items: list[QueueItem]
    next_cursor: str | None


class LogEntry(msgspec.Struct):
    id: int
    actor: UserRef | None  # null once the moderator's user is gone
    action: str
    video_id: uuid.UUID | None
    comment_id: int | None
    target_user_id: uuid.UUID | None
    reason: str
    details: dict[str, Any]
    created_at: datetime


class LogPage(msgspec.Struct):
    items: list[LogEntry]
    next_cursor: str | None

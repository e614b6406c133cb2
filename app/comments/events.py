"""Live events of comments on ``video:{id}`` (docs/protocol.md, "Video channel events").

Each is encoded once and enqueued through the outbox in the transaction of the change.
"""

from __future__ import annotations

import uuid
from typing import Literal

import msgspec

from app.comments.schemas import Comment


class CommentCreated(msgspec.Struct, tag="comment.created", frozen=True):
    """A comment became visible: posted, or approved after review."""

    comment: Comment


class CommentEdited(msgspec.Struct, tag="comment.edited", frozen=True):
    comment: Comment


class CommentRemoved(msgspec.Struct, tag="comment.removed", frozen=True):
    """Drop the comment (and, for a top-level one, its thread). Carries no text on purpose."""

    video_id: uuid.UUID
    comment_id: int
    root_id: int | None
    reason: Literal["deleted", "removed", "held"]  # by its author, by a moderator, back to review


encoder = msgspec.json.Encoder()

"""Wire types of notifications: the REST page, the unread count, the settings, the live events."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal, get_args

import msgspec

Kind = Literal[
    "reply", "mention", "follow", "friend", "party_invite", "upload_ready", "upload_failed", "moderation"
]
KINDS: tuple[Kind, ...] = get_args(Kind)
# Kinds with no person behind them (the platform's own news); every other kind names its actors.
ACTORLESS: tuple[str, ...] = ("upload_ready", "upload_failed", "moderation")
SHOWN_ACTORS = 3  # actors a notification names; ``actor_count`` says how many there are in all


class Actor(msgspec.Struct, frozen=True):
    id: uuid.UUID
    handle: str
    # Their display name: filled in on the REST page; live events carry handles only (the name is
    # personal data in another database, not read inside the action's transaction).
    display_name: str | None = None


class Notification(msgspec.Struct):
    id: int
    kind: Kind
    actors: list[Actor]  # who did it, latest first, at most three
    actor_count: int  # how many people did it ("Ana and 4 others": 5); 0 for the platform's own kinds
    video_id: uuid.UUID | None  # the video it concerns, if any
    comment_id: int | None  # the comment it concerns: yours for a reply or moderation, theirs for a mention
    party_id: uuid.UUID | None  # the party of an invite
    data: dict[str, Any]  # per kind: excerpt, invite, reason, action, title
    created_at: datetime
    updated_at: datetime  # when it last gained an actor; the list's order
    read: bool


class NotificationPage(msgspec.Struct):
    items: list[Notification]
    next_cursor: str | None  # pass as ``cursor`` for older notifications; null on the last page


class UnreadCount(msgspec.Struct):
    count: int


class NotificationSettings(msgspec.Struct):
    """Whether each kind is kept for you; a disabled kind is never created."""

    reply: bool = True
    mention: bool = True
    follow: bool = True
    friend: bool = True
    party_invite: bool = True
    upload_ready: bool = True
    upload_failed: bool = True
    moderation: bool = True


# Live events on ``user:{id}`` (docs/protocol.md) -------------------------------------------------


class NotificationCreated(msgspec.Struct, tag="notification.created", frozen=True):
    notification: Notification


class NotificationUpdated(msgspec.Struct, tag="notification.updated", frozen=True):
    """A notification you have gained or lost an actor (it replaces the one with the same id)."""

    notification: Notification


class NotificationWithdrawn(msgspec.Struct, tag="notification.withdrawn", frozen=True):
    """What it told of was undone before you read it (or the comment is gone): drop it."""

    id: int


class NotificationsRead(msgspec.Struct, tag="notification.read", frozen=True):
    """Notifications were marked read (on any of your sessions): ``ids``, or all up to ``up_to``."""

    ids: list[int] | None
    up_to: int | None


class UnreadChanged(msgspec.Struct, tag="notification.unread", frozen=True):
    count: int

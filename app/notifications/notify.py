"""Writing notifications: what other features call, inside the transaction of their own change.

So a notification exists exactly when the change does, and its live events (``notification.*``
on the recipient's ``user:{id}``) go out through the outbox with it: a rolled-back follow notifies
nobody, and a relay or gateway that dies re-sends nothing twice (the outbox's keys).

Rules kept here, once for every kind:

- never for the recipient's own action, never from someone the recipient muted, or blocked, or
  who blocked the recipient, and never of a kind the recipient switched off;
- an unread notification of the same kind and group, younger than ``GROUP_SECONDS``, gathers the
  new actor instead of a new notification ("Ana and 4 others followed you");
- undoing (``retract``) removes the actor's part; a notification left without actors is deleted
  and its publications withdrawn from the channel's history.

Each recipient's notifications change under a transaction-scoped lock of that recipient, so the
unread count each event carries is exact and the events of one recipient leave in commit order.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import msgspec

from app.notifications import store
from app.notifications.schemas import (
    Kind,
    NotificationCreated,
    NotificationUpdated,
    NotificationWithdrawn,
    UnreadChanged,
)
from core.db import Database
from realtime.channels import channel_name
from realtime.outbox import enqueue, withdraw

GROUP_SECONDS = 24 * 3600  # how long a group keeps gathering actors while unread
_encoder = msgspec.json.Encoder()


async def lock_recipients(db: Database, recipients: Iterable[uuid.UUID]) -> None:
    """Serialise changes to these recipients' notifications until commit (sorted: no deadlock)."""
    for recipient in sorted(set(recipients), key=str):
        await db.fetch("SELECT pg_advisory_xact_lock(hashtextextended({}, 0))", f"notifications:{recipient}")


async def publish(db: Database, recipient_id: uuid.UUID, event: msgspec.Struct) -> str:
    return await enqueue(db, channel_name("user", recipient_id), _encoder.encode(event))


async def publish_unread(db: Database, recipient_id: uuid.UUID) -> None:
    await publish(db, recipient_id, UnreadChanged(count=await store.unread(db, recipient_id)))


async def announce(db: Database, notification_id: int, recipient_id: uuid.UUID, new: bool) -> None:
    notification = await store.load(db, notification_id)
    assert notification is not None
    event = NotificationCreated(notification) if new else NotificationUpdated(notification)
    key = await publish(db, recipient_id, event)
    await db.fetch(
        "UPDATE notifications SET publication_keys = array_append(publication_keys, {}) WHERE id = {}",
        key,
        notification_id,
    )
    if new:
        await publish_unread(db, recipient_id)


async def _wanted(db: Database, recipient_id: uuid.UUID, kind: Kind, actor_id: uuid.UUID | None) -> bool:
    rows = await db.fetch(
        "SELECT coalesce((SELECT enabled FROM notification_settings WHERE user_id = {} AND kind = {}), true)"
        " AND NOT EXISTS (SELECT 1 FROM mutes WHERE muter_id = {} AND muted_id = {})"
        " AND NOT EXISTS (SELECT 1 FROM blocks WHERE (blocker_id = {} AND blocked_id = {})"
        " OR (blocker_id = {} AND blocked_id = {})) AS wanted",
        *(recipient_id, kind, recipient_id, actor_id, recipient_id, actor_id, actor_id, recipient_id),
    )
    return bool(rows[0]["wanted"])


async def notify(
    db: Database,
    recipient_id: uuid.UUID,
    kind: Kind,
    *,
    actor_id: uuid.UUID | None = None,
    source: str = "",
    group_key: str = "",
    video_id: uuid.UUID | None = None,
    comment_id: int | None = None,
    party_id: uuid.UUID | None = None,
    data: dict[str, Any] | None = None,
) -> int | None:
    """Tell ``recipient_id`` that ``actor_id`` (None: the platform) did ``kind``; call it inside
    the transaction of that change. ``source`` names what the actor did, for ``retract``
    (``comment:<id>``); ``group_key`` what groups within the kind. Returns the notification's id,
    or None when the rules say nobody is told."""
    if actor_id is not None and actor_id == recipient_id:
        return None
    if not await _wanted(db, recipient_id, kind, actor_id):
        return None
    await lock_recipients(db, [recipient_id])
    details = _encoder.encode(data or {}).decode()
    rows = await db.fetch(
        "SELECT id FROM notifications WHERE recipient_id = {} AND kind = {} AND group_key = {}"
        " AND read_at IS NULL AND updated_at > now() - make_interval(secs => {})"
        " ORDER BY id DESC LIMIT 1 FOR UPDATE",
        recipient_id,
        kind,
        group_key,
        float(GROUP_SECONDS),
    )
    new = not rows
    if new:
        (row,) = await db.fetch(
            "INSERT INTO notifications (recipient_id, kind, group_key, video_id, comment_id, party_id, data)"
            " VALUES ({}, {}, {}, {}, {}, {}, {}::jsonb) RETURNING id",
            *(recipient_id, kind, group_key, video_id, comment_id, party_id, details),
        )
        notification_id = int(row["id"])
    else:
        notification_id = int(rows[0]["id"])
    if actor_id is not None:
        added = await db.fetch(
            "INSERT INTO notification_actors (notification_id, actor_id, source) VALUES ({}, {}, {})"
            " ON CONFLICT DO NOTHING RETURNING 1",
            notification_id,
            actor_id,
            source,
        )
        if not added and not new:
            return notification_id  # the same actor did the same thing again: nothing new to tell
    if not new:
        await db.fetch(
            "UPDATE notifications SET updated_at = now(), data = data || {}::jsonb WHERE id = {}",
            details,
            notification_id,
        )
    await announce(db, notification_id, recipient_id, new)
    return notification_id


async def retract(
    db: Database,
    kinds: Sequence[Kind],
    *,
    actor_ids: Sequence[uuid.UUID] | None = None,
    recipient_ids: Sequence[uuid.UUID] | None = None,
    sources: Sequence[str] | None = None,
    unread_only: bool = True,
) -> None:
    """Undo the part of the named actors (or sources) in notifications of ``kinds``; inside the
    transaction that undoes the action. A notification left without actors is deleted, its
    publications withdrawn from history; one that keeps some is re-announced, smaller.

    ``unread_only``: an undone follow leaves what was already read alone; a deleted comment
    takes its text out of read notifications too."""
    conditions = ["n.kind = ANY({})"]
    values: list[Any] = [list(kinds)]
    for column, given in (
        ("a.actor_id", actor_ids),
        ("n.recipient_id", recipient_ids),
        ("a.source", sources),
    ):
        if given is not None:
            conditions.append(f"{column} = ANY({{}})")
            values.append(list(given))
    if unread_only:
        conditions.append("n.read_at IS NULL")
    where = " AND ".join(conditions)
    touched = await db.fetch(
        "SELECT DISTINCT n.recipient_id FROM notification_actors a"
        f" JOIN notifications n ON n.id = a.notification_id WHERE {where}",
        *values,
    )
    if not touched:
        return
    await lock_recipients(db, [row["recipient_id"] for row in touched])
    removed = await db.fetch(
        "DELETE FROM notification_actors a USING notifications n"
        f" WHERE n.id = a.notification_id AND {where} RETURNING a.notification_id",
        *values,
    )
    for notification_id in sorted({int(row["notification_id"]) for row in removed}):
        await _shrunk(db, notification_id)


async def _shrunk(db: Database, notification_id: int) -> None:
    """After a notification lost actors: delete it if none are left, else announce it smaller."""
    rows = await db.fetch(
        "SELECT recipient_id, read_at IS NULL AS unread, publication_keys,"
        " NOT EXISTS (SELECT 1 FROM notification_actors a WHERE a.notification_id = n.id) AS empty"
        " FROM notifications n WHERE id = {}",
        notification_id,
    )
    if not rows:
        return
    row = rows[0]
    recipient = row["recipient_id"]
    if not row["empty"]:
        await announce(db, notification_id, recipient, new=False)
        return
    await discard(db, notification_id, recipient, list(row["publication_keys"]), bool(row["unread"]))


async def discard(
    db: Database, notification_id: int, recipient_id: uuid.UUID, keys: list[str], unread: bool
) -> None:
    """Delete one notification: its publications leave the history, live sessions drop it."""
    await db.fetch("DELETE FROM notifications WHERE id = {}", notification_id)
    channel = channel_name("user", recipient_id)
    await withdraw(db, [channel], keys)
    await publish(db, recipient_id, NotificationWithdrawn(id=notification_id))
    if unread:
        await publish_unread(db, recipient_id)

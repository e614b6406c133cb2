"""Reading and marking notifications, the settings per kind, and the personal-data hooks
(``export``, ``erase``) the privacy work calls."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

import msgspec

from app.notifications import store
from app.notifications.notify import announce, discard, lock_recipients, publish, publish_unread
from app.notifications.schemas import (
    KINDS,
    Notification,
    NotificationPage,
    NotificationSettings,
    NotificationsRead,
    UnreadCount,
)
from core.db import Database
from core.errors import BadRequest, NotFound
from core.pagination import Keyset, page_rows
from core.tokens import Principal
from realtime.channels import channel_name
from realtime.outbox import withdraw

_LATEST = Keyset(("n.updated_at", "n.id"), ("updated_at", "id"), tuple[datetime, int])


# Display names of users by id (the profiles feature's ``ProfileService.names``), for the page.
Names = Callable[[list[uuid.UUID]], Awaitable[Mapping[uuid.UUID, Any]]]


class NotificationService:
    def __init__(self, db: Database, names: Names | None = None) -> None:
        self._db = db
        self._names = names

    async def page(
        self, reader: Principal, cursor: str | None, limit: int, unread_only: bool
    ) -> NotificationPage:
        """The reader's notifications, latest activity first. A group that gains an actor moves to
        the front, so a client paging while that happens may see it twice: merge by ``id``."""
        conditions = ["n.recipient_id = {}", store.SHOWN]
        if unread_only:
            conditions.append("n.read_at IS NULL")
        rows, next_cursor = await page_rows(
            self._db, store.SELECT_NOTIFICATION, conditions, [reader.id], _LATEST, cursor, limit
        )
        items = [store.notification_from_row(row) for row in rows]
        return NotificationPage(items=await self._with_display_names(items), next_cursor=next_cursor)

    async def _with_display_names(self, items: list[Notification]) -> list[Notification]:
        if self._names is None:
            return items
        names = await self._names(list({actor.id for item in items for actor in item.actors}))
        for item in items:
            item.actors = [
                msgspec.structs.replace(actor, display_name=names[actor.id].display_name)
                if actor.id in names
                else actor
                for actor in item.actors
            ]
        return items

    async def unread(self, reader: Principal) -> UnreadCount:
        return UnreadCount(count=await store.unread(self._db, reader.id))

    async def mark_read(self, reader: Principal, notification_id: int) -> UnreadCount:
        """Mark one read (again: no change); every session of the reader hears the new count."""
        async with self._db.engine.transaction():
            await lock_recipients(self._db, [reader.id])
            rows = await self._db.fetch(
                "SELECT read_at IS NULL AS unread FROM notifications WHERE id = {} AND recipient_id = {}",
                notification_id,
                reader.id,
            )
            if not rows:
                raise NotFound("no such notification", code="notification_not_found")
            if rows[0]["unread"]:
                await self._db.fetch(
                    "UPDATE notifications SET read_at = now() WHERE id = {}", notification_id
                )
                await publish(self._db, reader.id, NotificationsRead(ids=[notification_id], up_to=None))
                await publish_unread(self._db, reader.id)
            count = await store.unread(self._db, reader.id)
        return UnreadCount(count=count)

    async def mark_all_read(self, reader: Principal) -> UnreadCount:
        async with self._db.engine.transaction():
            await lock_recipients(self._db, [reader.id])
            rows = await self._db.fetch(
                "UPDATE notifications SET read_at = now() WHERE recipient_id = {} AND read_at IS NULL"
                " RETURNING id",
                reader.id,
            )
            if rows:
                newest = max(int(row["id"]) for row in rows)
                await publish(self._db, reader.id, NotificationsRead(ids=None, up_to=newest))
                await publish_unread(self._db, reader.id)
        return UnreadCount(count=0)

    # Settings ------------------------------------------------------------------------------------

    async def settings(self, user: Principal) -> NotificationSettings:
        rows = await self._db.fetch(
            "SELECT kind, enabled FROM notification_settings WHERE user_id = {}", user.id
        )
        return msgspec.convert({row["kind"]: row["enabled"] for row in rows}, NotificationSettings)

    async def change_settings(self, user: Principal, change: Mapping[str, Any]) -> NotificationSettings:
        """Switch kinds on or off; kinds not named keep their setting. An unknown kind is refused."""
        unknown = sorted(kind for kind in change if kind not in KINDS)
        if unknown:
            raise BadRequest(
                f"no such notification kind: {', '.join(unknown)}",
                code="unknown_notification_kind",
                details={"unknown": unknown, "kinds": list(KINDS)},
            )
        wrong = sorted(kind for kind, enabled in change.items() if not isinstance(enabled, bool))
        if wrong:
            raise BadRequest(
                "each kind is switched on with true or off with false",
                code="invalid_setting",
                details={"kinds": wrong},
            )
        async with self._db.engine.transaction():
            for kind, enabled in change.items():
                await self._db.fetch(
                    "INSERT INTO notification_settings (user_id, kind, enabled) VALUES ({}, {}, {})"
                    " ON CONFLICT (user_id, kind) DO UPDATE SET enabled = EXCLUDED.enabled",
                    user.id,
                    kind,
                    enabled,
                )
        return await self.settings(user)


# Personal data ---------------------------------------------------------------------------------


async def export_notifications(db: Database, user_id: uuid.UUID) -> list[dict[str, Any]]:
    """Every notification kept for ``user_id`` (read or not, as the list shows them), oldest first,
    with the settings as one more record: for a data export."""
    rows = await db.fetch(store.SELECT_NOTIFICATION + " WHERE n.recipient_id = {} ORDER BY n.id", user_id)
    items: list[dict[str, Any]] = msgspec.to_builtins([store.notification_from_row(row) for row in rows])
    return items


async def export_notification_settings(db: Database, user_id: uuid.UUID) -> dict[str, bool]:
    rows = await db.fetch("SELECT kind, enabled FROM notification_settings WHERE user_id = {}", user_id)
    return {kind: True for kind in KINDS} | {row["kind"]: row["enabled"] for row in rows}


async def erase_notifications(db: Database, user_id: uuid.UUID) -> int:
    """Erase notifications to ``user_id`` and the user's part in everyone else's: a notification
    left without actors goes (its publications withdrawn), one with others stays, smaller. Runs in
    a transaction of its own unless called in one. Returns how many notifications were deleted."""
    async with db.engine.transaction():
        others = await db.fetch(
            "SELECT DISTINCT n.recipient_id FROM notification_actors a JOIN notifications n"
            " ON n.id = a.notification_id WHERE a.actor_id = {}",
            user_id,
        )
        await lock_recipients(db, [user_id, *(row["recipient_id"] for row in others)])
        own = await db.fetch(
            "DELETE FROM notifications WHERE recipient_id = {} RETURNING id, publication_keys", user_id
        )
        await db.fetch("DELETE FROM notification_settings WHERE user_id = {}", user_id)
        if own:
            await _redact_own(db, user_id, [key for row in own for key in row["publication_keys"]])
        parts = await db.fetch(
            "DELETE FROM notification_actors WHERE actor_id = {} RETURNING notification_id", user_id
        )
        deleted = len(own)
        for notification_id in sorted({int(row["notification_id"]) for row in parts}):
            rows = await db.fetch(
                "SELECT recipient_id, read_at IS NULL AS unread, publication_keys,"
                " EXISTS (SELECT 1 FROM notification_actors a WHERE a.notification_id = n.id) AS kept"
                " FROM notifications n WHERE id = {}",
                notification_id,
            )
            if rows and not rows[0]["kept"]:
                row = rows[0]
                await discard(
                    db, notification_id, row["recipient_id"], list(row["publication_keys"]), row["unread"]
                )
                deleted += 1
            elif rows:
                # Its events named the erased user: withdraw them, and announce it without them.
                await _redact_own(db, rows[0]["recipient_id"], list(rows[0]["publication_keys"]))
                await db.fetch(
                    "UPDATE notifications SET publication_keys = ARRAY[]::text[] WHERE id = {}",
                    notification_id,
                )
                await announce(db, notification_id, rows[0]["recipient_id"], new=False)
    return deleted


async def _redact_own(db: Database, recipient_id: uuid.UUID, keys: list[str]) -> None:
    await withdraw(db, [channel_name("user", recipient_id)], keys)

"""The notifications' personal data part (main database): the notifications kept for the user,
their settings per kind, and their part as an actor in other people's notifications.

Export carries what the user's own list shows, and their settings; the notifications they caused
others belong to those others and are not exported (the acts behind them are: follows, comments).
Erasure is ``erase_notifications``: their own go, and they leave everyone else's (a group left
without actors goes; live publications naming them are withdrawn).
"""

from __future__ import annotations

import uuid

from app.notifications.service import (
    erase_notifications,
    export_notification_settings,
    export_notifications,
)
from app.privacy.parts import Exported
from core.db import Database


class NotificationsPart:
    name = "notifications"
    store = "main"

    def __init__(self, db: Database) -> None:
        self._db = db

    async def export(self, user_id: uuid.UUID) -> Exported:
        return Exported(
            records={
                "notifications": await export_notifications(self._db, user_id),
                "notification_settings": [await export_notification_settings(self._db, user_id)],
            }
        )

    async def erase(self, user_id: uuid.UUID) -> dict[str, int]:
        return {"notifications": await erase_notifications(self._db, user_id)}

    async def residue(self, user_id: uuid.UUID) -> list[str]:
        rows = await self._db.fetch(
            "SELECT (SELECT count(*) FROM notifications WHERE recipient_id = {}) AS own,"
            " (SELECT count(*) FROM notification_settings WHERE user_id = {}) AS settings,"
            " (SELECT count(*) FROM notification_actors WHERE actor_id = {}) AS acted",
            user_id,
            user_id,
            user_id,
        )
        labels = {
            "own": "notifications to the user",
            "settings": "notification settings",
            "acted": "places as an actor in others' notifications",
        }
        return [f"{rows[0][k]} {label}" for k, label in labels.items() if rows[0][k]]

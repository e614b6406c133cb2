"""Moderation's personal data part: restrictions and audit-log entries about the user, and the
marks the user left as a moderator.

Restrictions on the user are deleted. The audit log keeps its entries (who moderated what is the
moderators' accountability), but an entry about the user loses the user's id and its free-text
reason, and one the user made as a moderator loses the actor's id: what was done stays, not to or
by whom.
"""

from __future__ import annotations

import uuid

from app.privacy.parts import Exported
from core.db import Database

# (table, column) pairs that name the user as the one who acted; set to NULL on erasure.
_ACTED = (
    ("moderation_restrictions", "created_by"),
    ("moderation_restrictions", "lifted_by"),
    ("held_words", "created_by"),
    ("comments", "hidden_by"),
    ("moderation_log", "actor_id"),
)


class ModerationPart:
    name = "moderation"
    store = "main"

    def __init__(self, db: Database) -> None:
        self._db = db

    async def export(self, user_id: uuid.UUID) -> Exported:
        restrictions = await self._db.fetch(
            "SELECT id, kind, video_id, reason, created_at, ends_at, lifted_at FROM moderation_restrictions"
            " WHERE user_id = {} ORDER BY id",
            user_id,
        )
        log = await self._db.fetch(
            "SELECT id, action, video_id, comment_id, reason, created_at FROM moderation_log"
            " WHERE target_user_id = {} ORDER BY id",
            user_id,
        )
        return Exported(records={"moderation_restrictions": restrictions, "moderation_actions_about_me": log})

    async def erase(self, user_id: uuid.UUID) -> dict[str, int]:
        async with self._db.engine.transaction():
            restrictions = await self._db.fetch(
                "DELETE FROM moderation_restrictions WHERE user_id = {} RETURNING id", user_id
            )
            about = await self._db.fetch(
                "UPDATE moderation_log SET target_user_id = NULL, reason = '' WHERE target_user_id = {}"
                " RETURNING id",
                user_id,
            )
            acted = 0
            for table, column in _ACTED:
                rows = await self._db.fetch(
                    f"UPDATE {table} SET {column} = NULL WHERE {column} = {{}} RETURNING 1", user_id
                )
                acted += len(rows)
        return {
            "restrictions": len(restrictions),
            "log_entries_about": len(about),
            "marks_as_moderator": acted,
        }

    async def residue(self, user_id: uuid.UUID) -> list[str]:
        found = []
        for table, column in (
            ("moderation_restrictions", "user_id"),
            ("moderation_log", "target_user_id"),
            *_ACTED,
        ):
            rows = await self._db.fetch(f"SELECT count(*) AS n FROM {table} WHERE {column} = {{}}", user_id)
            if rows[0]["n"]:
                found.append(f"{rows[0]['n']} {table}.{column}")
        return found

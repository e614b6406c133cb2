"""The public user row's personal data part: the handle (a public pseudonym), role and creation
time in the main database. It goes last among the main database's parts: deleting it cascades to
whatever an earlier part missed, and from then on the user's access tokens are refused
(``401 account_gone``: ``Principals`` hears the row go through the database's notification)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from app.privacy.parts import Exported
from core.db import Database


class AccountPart:
    name = "account"
    store = "main"

    def __init__(self, db: Database, forget: Callable[[uuid.UUID], None] | None = None) -> None:
        self._db = db
        self._forget = forget

    async def export(self, user_id: uuid.UUID) -> Exported:
        rows = await self._db.fetch("SELECT id, handle, role, created_at FROM users WHERE id = {}", user_id)
        return Exported(records={"profile": rows})

    async def erase(self, user_id: uuid.UUID) -> dict[str, int]:
        gone = await self._db.fetch("DELETE FROM users WHERE id = {} RETURNING 1", user_id)
        if self._forget is not None:
            self._forget(user_id)  # this process at once; the others through the notification
        return {"user": len(gone)}

    async def residue(self, user_id: uuid.UUID) -> list[str]:
        rows = await self._db.fetch("SELECT handle FROM users WHERE id = {}", user_id)
        return ["the public user row"] if rows else []

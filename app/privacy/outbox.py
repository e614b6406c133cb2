"""The outbox's personal data part: rows whose event names the user (every live event about a
user carries their id: a comment's author, a party member, a chat message's sender).

Published rows are history of what went out: erasing deletes them (the history streams' copies
are the Redis part's). A row not relayed yet is left to the relay (an ``@graph`` change must
still reach the projector, a ``member.left`` the party); the step asks to be run again a little
later (``NotYet``) until none is left. The scan reads the whole table: the outbox has no index
on its payloads, and a retention job that deletes old published rows keeps it short.
"""

from __future__ import annotations

import uuid

from app.privacy.parts import Exported
from core.db import Database


class NotYet(Exception):
    """The step cannot finish now (it waits for the relay); run the job again shortly."""


_MENTIONS = "position(convert_to({}, 'UTF8') IN payload) > 0"


class OutboxPart:
    name = "outbox"
    store = "main"

    def __init__(self, db: Database) -> None:
        self._db = db

    async def export(self, user_id: uuid.UUID) -> Exported:
        return Exported(records={})  # events restate what the other parts export

    async def erase(self, user_id: uuid.UUID) -> dict[str, int]:
        waiting = await self._db.fetch(
            f"SELECT count(*) AS n FROM outbox WHERE {_MENTIONS} AND published_at IS NULL", str(user_id)
        )
        if waiting[0]["n"]:
            raise NotYet(f"{waiting[0]['n']} outbox rows about the user are not relayed yet")
        gone = await self._db.fetch(
            f"DELETE FROM outbox WHERE {_MENTIONS} AND published_at IS NOT NULL RETURNING id", str(user_id)
        )
        return {"outbox_rows": len(gone)}

    async def residue(self, user_id: uuid.UUID) -> list[str]:
        rows = await self._db.fetch(f"SELECT count(*) AS n FROM outbox WHERE {_MENTIONS}", str(user_id))
        return [f"{rows[0]['n']} outbox rows naming the user"] if rows[0]["n"] else []

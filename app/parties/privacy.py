"""Watch parties' personal data part: the parties the user started, their memberships and their
chat messages. Erasing has the user leave every party still going, as ``leave`` does (a host
hands control on, the last one out ends the party and its live state), then deletes their
messages and memberships and clears them as creator of the parties' records."""

from __future__ import annotations

import contextlib
import uuid

from app.parties.service import PartyService
from app.privacy.parts import Exported
from core.db import Database
from core.errors import DomainError
from core.tokens import Principal


class PartiesPart:
    name = "parties"
    store = "main"

    def __init__(self, db: Database, parties: PartyService) -> None:
        self._db = db
        self._parties = parties

    async def export(self, user_id: uuid.UUID) -> Exported:
        started = await self._db.fetch(
            "SELECT id, video_id, visibility, control, created_at, ended_at FROM parties"
            " WHERE creator_id = {} ORDER BY created_at",
            user_id,
        )
        joined = await self._db.fetch(
            "SELECT party_id, joined_at FROM party_members WHERE user_id = {} ORDER BY joined_at", user_id
        )
        messages = await self._db.fetch(
            "SELECT id, party_id, text, video_id, position, created_at FROM party_messages"
            " WHERE user_id = {} ORDER BY id",
            user_id,
        )
        return Exported(
            records={"parties_started": started, "party_memberships": joined, "party_messages": messages}
        )

    async def erase(self, user_id: uuid.UUID) -> dict[str, int]:
        users = await self._db.fetch("SELECT handle, role FROM users WHERE id = {}", user_id)
        live = await self._db.fetch(
            "SELECT m.party_id FROM party_members m JOIN parties p ON p.id = m.party_id"
            " WHERE m.user_id = {} AND p.ended_at IS NULL",
            user_id,
        )
        if users:
            principal = Principal(id=user_id, handle=users[0]["handle"], role=users[0]["role"])
            for row in live:
                with contextlib.suppress(DomainError):  # ended meanwhile: nothing to hand over
                    await self._parties.leave(row["party_id"], principal)
        async with self._db.engine.transaction():
            messages = await self._db.fetch(
                "DELETE FROM party_messages WHERE user_id = {} RETURNING 1", user_id
            )
            members = await self._db.fetch(
                "DELETE FROM party_members WHERE user_id = {} RETURNING 1", user_id
            )
            started = await self._db.fetch(
                "UPDATE parties SET creator_id = NULL WHERE creator_id = {} RETURNING 1", user_id
            )
        return {
            "parties_left": len(live),
            "party_messages": len(messages),
            "party_memberships": len(members),
            "parties_started": len(started),
        }

    async def residue(self, user_id: uuid.UUID) -> list[str]:
        rows = await self._db.fetch(
            "SELECT (SELECT count(*) FROM party_messages WHERE user_id = {}) AS messages,"
            " (SELECT count(*) FROM party_members WHERE user_id = {}) AS members,"
            " (SELECT count(*) FROM parties WHERE creator_id = {}) AS started",
            user_id,
            user_id,
            user_id,
        )
        labels = {"messages": "party messages", "members": "party memberships", "started": "parties started"}
        return [f"{rows[0][k]} {label}" for k, label in labels.items() if rows[0][k]]

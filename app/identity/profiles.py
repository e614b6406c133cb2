"""Reads and writes of the ``profiles`` table: display name, bio and avatar digest per account.

Part of the identity store: profiles are personal data, kept beside the account they belong to
(``migrations/identity/m0002_profiles.py``). The rules for what a name or a bio may hold are the
profiles feature's (``app/profiles/``); this module only stores what it is given.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from core.db import Database
from core.errors import NotFound

# At most this many display-name matches per kind of match (prefix, trigrams) are handed to search.
SEARCH_CANDIDATES = 100
_FOLDED = "search_fold({})"
_RELEVANCE = (
    f"(similarity({_FOLDED}, search_fold(p.display_name))"
    f" + word_similarity({_FOLDED}, search_fold(p.display_name)))::float8"
)
# The start of a display name: a range of the B-tree ``profiles_display_name_prefix`` (usable
# with a bound parameter, which LIKE's own prefix optimisation is not), then LIKE for exactness.
# U+10FFFF, a noncharacter no display name holds, bounds every string starting with the query.
_PREFIX = (
    f"search_fold(p.display_name) ~>=~ {_FOLDED}"
    f" AND search_fold(p.display_name) ~<~ ({_FOLDED} || chr(1114111))"
    f" AND search_fold(p.display_name) LIKE {_FOLDED} || '%' ESCAPE '\\'"
)
_NEAR = f"{_FOLDED} <% search_fold(p.display_name)"
_SEARCH_ARM = (
    "(SELECT p.account FROM profiles p WHERE p.display_name IS NOT NULL AND ({}) LIMIT "
    + str(SEARCH_CANDIDATES)
    + ")"
)


def search_query(text: str, like_prefix: str, near: bool) -> tuple[Any, ...]:
    """The SQL of ``ProfileStore.search`` and its arguments (the benchmark explains the same)."""
    arms = [_SEARCH_ARM.format(_PREFIX)]
    args: list[Any] = [text, text, like_prefix]
    if near:
        arms.append(_SEARCH_ARM.format(_NEAR))
        args.append(text)
    sql = (
        f"SELECT p.account, p.display_name, p.avatar, {_RELEVANCE} AS relevance FROM profiles p"
        f" WHERE p.account IN ({' UNION '.join(arms)})"
    )
    return (sql, text, text, *args)


class ProfileRecord(msgspec.Struct, frozen=True):
    account: uuid.UUID
    display_name: str | None
    bio: str | None
    avatar: str | None  # the content digest of the processed images, or None
    updated_at: datetime


class NameMatch(msgspec.Struct, frozen=True):
    account: uuid.UUID
    relevance: float
    display_name: str  # what matched, and what the hit shows
    avatar: str | None


class ProfileStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, account: uuid.UUID) -> ProfileRecord | None:
        rows = await self._db.fetch("SELECT * FROM profiles WHERE account = {}", account)
        return msgspec.convert(rows[0], ProfileRecord) if rows else None

    async def many(self, accounts: list[uuid.UUID]) -> dict[uuid.UUID, ProfileRecord]:
        if not accounts:
            return {}
        rows = await self._db.fetch("SELECT * FROM profiles WHERE account = ANY({})", accounts)
        return {row["account"]: msgspec.convert(row, ProfileRecord) for row in rows}

    async def update(self, account: uuid.UUID, fields: dict[str, Any]) -> ProfileRecord:
        """Set ``display_name`` and/or ``bio`` (None clears one), creating the row on first use.
        404 if the account does not exist (the profile belongs to an account)."""
        columns = [name for name in ("display_name", "bio") if name in fields]
        values = [fields[name] for name in columns]
        inserted = ", ".join(columns)
        updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in columns)
        placeholders = ", ".join("{}" for _ in columns)
        sql = (
            f"INSERT INTO profiles (account{', ' if columns else ''}{inserted})"
            f" VALUES ({{}}{', ' if columns else ''}{placeholders})"
            f" ON CONFLICT (account) DO UPDATE SET {updates}{', ' if columns else ''}updated_at = now()"
            " RETURNING *"
        )
        return await self._write(sql, account, *values)

    async def set_avatar(self, account: uuid.UUID, digest: str | None) -> str | None:
        """Point the profile at a new avatar (or none); the digest it had before, if any."""
        async with self._db.engine.transaction():
            before = await self._db.fetch(
                "SELECT avatar FROM profiles WHERE account = {} FOR UPDATE", account
            )
            await self._write(
                "INSERT INTO profiles (account, avatar) VALUES ({}, {})"
                " ON CONFLICT (account) DO UPDATE SET avatar = EXCLUDED.avatar, updated_at = now()"
                " RETURNING *",
                account,
                digest,
            )
        return before[0]["avatar"] if before else None

    async def delete(self, account: uuid.UUID) -> ProfileRecord | None:
        """Remove the profile row; what it held, or None if there was none."""
        rows = await self._db.fetch("DELETE FROM profiles WHERE account = {} RETURNING *", account)
        return msgspec.convert(rows[0], ProfileRecord) if rows else None

    async def search(self, text: str, like_prefix: str, near: bool) -> list[NameMatch]:
        """Accounts whose display name starts with ``like_prefix`` (LIKE wildcards already
        escaped) or, with ``near``, is close to ``text`` by trigrams; with the relevance search
        ranks by (the same formula as for handles in the main database)."""
        rows = await self._db.fetch(*search_query(text, like_prefix, near))
        return msgspec.convert(rows, list[NameMatch])

    async def _write(self, sql: str, *args: Any) -> ProfileRecord:
        try:
            rows = await self._db.fetch(sql, *args)
        except asyncpg.ForeignKeyViolationError as exc:
            raise NotFound("no such account", code="user_not_found") from exc
        return msgspec.convert(rows[0], ProfileRecord)

"""Reads and writes of the ``profiles`` table: display name, bio and avatar digest per account.

Part of the identity store: profiles are personal data, kept beside the account they belong to
(``migrations/identity/m0002_profiles.py``). The rules for what a name or a bio may hold are the
profiles feature's (``app/profiles/``); this module only stores what it is given.

The bio is sealed under the account's data key (``bio_sealed``, identity migration m0004), like
the account's own fields, so shredding that key leaves every copy of it unreadable. The display
name stays in clear: people search matches it with trigram and prefix indexes, which need the
text (docs/privacy.md, "Profiles and crypto-shredding"). The avatar column is a content digest.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from app.identity.crypto import DataKey, Keyring, KeyringMissing
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
    bio: str | None  # opened; None when there is none or the account's key was shredded
    avatar: str | None  # the content digest of the processed images, or None
    updated_at: datetime


class ProfileSummary(msgspec.Struct, frozen=True):
    """What lists show of a person: no bio, so nothing is opened."""

    account: uuid.UUID
    display_name: str | None
    avatar: str | None


class NameMatch(msgspec.Struct, frozen=True):
    account: uuid.UUID
    relevance: float
    display_name: str  # what matched, and what the hit shows
    avatar: str | None


# A profile row with its account's wrapped data key (absent once shredded), to open the bio.
_SELECT = (
    "SELECT p.account, p.display_name, p.bio_sealed, p.avatar, p.updated_at, k.master_key_id,"
    " k.wrapped_key FROM profiles p LEFT JOIN account_keys k ON k.account = p.account"
)
_RETURNING = " RETURNING account, display_name, bio_sealed, avatar, updated_at"


class ProfileStore:
    """``keyring`` opens and seals bios; None (a benchmark, the privacy audit) serves everything
    else and refuses to touch a bio."""

    def __init__(self, db: Database, keyring: Keyring | None) -> None:
        self._db = db
        self._keyring = keyring

    async def get(self, account: uuid.UUID) -> ProfileRecord | None:
        rows = await self._db.fetch(_SELECT + " WHERE p.account = {}", account)
        if not rows:
            return None
        row = rows[0]
        key = self._unwrap(account, row["master_key_id"], row["wrapped_key"]) if row["bio_sealed"] else None
        return _record(row, key)

    async def many(self, accounts: list[uuid.UUID]) -> dict[uuid.UUID, ProfileSummary]:
        if not accounts:
            return {}
        rows = await self._db.fetch(
            "SELECT account, display_name, avatar FROM profiles WHERE account = ANY({})", accounts
        )
        return {row["account"]: msgspec.convert(row, ProfileSummary) for row in rows}

    async def update(self, account: uuid.UUID, fields: dict[str, Any]) -> ProfileRecord:
        """Set ``display_name`` and/or ``bio`` (None clears one), creating the row on first use;
        the bio is stored sealed. 404 if the account does not exist or its key was shredded (the
        profile belongs to an account)."""
        keys = await self._db.fetch(
            "SELECT master_key_id, wrapped_key FROM account_keys WHERE account = {}", account
        )
        if not keys:
            raise NotFound("no such account", code="user_not_found")
        key = self._keys().unwrap(account, keys[0]["master_key_id"], keys[0]["wrapped_key"])
        stored = dict(fields)
        if "bio" in stored:
            bio = stored.pop("bio")
            stored["bio_sealed"] = None if bio is None else key.seal("bio", bio)
        columns = [name for name in ("display_name", "bio_sealed") if name in stored]
        values = [stored[name] for name in columns]
        inserted = ", ".join(columns)
        updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in columns)
        placeholders = ", ".join("{}" for _ in columns)
        sql = (
            f"INSERT INTO profiles (account{', ' if columns else ''}{inserted})"
            f" VALUES ({{}}{', ' if columns else ''}{placeholders})"
            f" ON CONFLICT (account) DO UPDATE SET {updates}{', ' if columns else ''}updated_at = now()"
            + _RETURNING
        )
        return _record(await self._write(sql, account, *values), key)

    async def set_avatar(self, account: uuid.UUID, digest: str | None) -> str | None:
        """Point the profile at a new avatar (or none); the digest it had before, if any."""
        async with self._db.engine.transaction():
            before = await self._db.fetch(
                "SELECT avatar FROM profiles WHERE account = {} FOR UPDATE", account
            )
            await self._write(
                "INSERT INTO profiles (account, avatar) VALUES ({}, {})"
                " ON CONFLICT (account) DO UPDATE SET avatar = EXCLUDED.avatar, updated_at = now()"
                + _RETURNING,
                account,
                digest,
            )
        return before[0]["avatar"] if before else None

    async def delete(self, account: uuid.UUID) -> bool:
        """Remove the profile row; whether there was one."""
        return bool(await self._db.fetch("DELETE FROM profiles WHERE account = {} RETURNING 1", account))

    async def search(self, text: str, like_prefix: str, near: bool) -> list[NameMatch]:
        """Accounts whose display name starts with ``like_prefix`` (LIKE wildcards already
        escaped) or, with ``near``, is close to ``text`` by trigrams; with the relevance search
        ranks by (the same formula as for handles in the main database)."""
        rows = await self._db.fetch(*search_query(text, like_prefix, near))
        return msgspec.convert(rows, list[NameMatch])

    def _unwrap(self, account: uuid.UUID, master_key_id: str | None, wrapped: bytes | None) -> DataKey | None:
        """The account's data key; None once shredded (its bio then reads as none)."""
        if wrapped is None or master_key_id is None:
            return None
        return self._keys().unwrap(account, master_key_id, wrapped)

    def _keys(self) -> Keyring:
        if self._keyring is None:
            raise KeyringMissing("a profile's bio is sealed: it needs MYDRTV_PRIVACY_MASTER_KEY")
        return self._keyring

    async def _write(self, sql: str, *args: Any) -> dict[str, Any]:
        try:
            rows = await self._db.fetch(sql, *args)
        except asyncpg.ForeignKeyViolationError as exc:
            raise NotFound("no such account", code="user_not_found") from exc
        return rows[0]


def _record(row: dict[str, Any], key: DataKey | None) -> ProfileRecord:
    sealed = row["bio_sealed"]
    return ProfileRecord(
        account=row["account"],
        display_name=row["display_name"],
        bio=key.open("bio", sealed) if key is not None and sealed is not None else None,
        avatar=row["avatar"],
        updated_at=row["updated_at"],
    )

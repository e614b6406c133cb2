"""Reads and writes of the identity database. The only module that touches personal data.

Personal fields are sealed under the account's data key (``app/identity/crypto.py``); an
account whose data key was shredded reads as absent.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date, datetime
from typing import Any

import asyncpg
import msgspec
from piccolo.querystring import QueryString

from app.identity.crypto import DataKey, Keyring
from app.identity.tables import Account, AccountKey
from core.db import Database
from core.errors import Conflict

# Purposes of processing a user can decide on (docs/privacy.md, "Consent"). ``essential`` is the
# service itself: it cannot be withdrawn short of erasing the account. Without a recorded decision
# a purpose is in its default state.
PURPOSES = ("essential", "personalization", "analytics")
DEFAULTS = {"essential": True, "personalization": True, "analytics": False}


class AccountRecord(msgspec.Struct, frozen=True):
    id: uuid.UUID
    email: str
    password_hash: str
    birth_date: date | None
    created_at: datetime


class ConsentRecord(msgspec.Struct, frozen=True):
    purpose: str
    granted: bool
    policy_version: str | None
    recorded_at: datetime


def seal_account(
    keyring: Keyring, account_id: uuid.UUID, email: str, password_hash: str, birth_date: date | None
) -> dict[str, Any]:
    """The stored columns of a new account: its fields sealed under a fresh data key, that key
    wrapped by the current master key, and the email's lookup hash."""
    data_key = DataKey.generate(account_id)
    master_key_id, wrapped = keyring.wrap(data_key)
    return {
        "email_hash": keyring.email_hash(email),
        "email_sealed": data_key.seal("email", email),
        "password_hash_sealed": data_key.seal("password_hash", password_hash),
        "birth_date_sealed": data_key.seal("birth_date", birth_date.isoformat()) if birth_date else None,
        "master_key_id": master_key_id,
        "wrapped_key": wrapped,
    }


def seal_field(
    keyring: Keyring, account_id: uuid.UUID, master_key_id: str, wrapped_key: bytes, field: str, text: str
) -> bytes:
    """``text`` sealed under the account's existing data key (given wrapped, as ``account_keys``
    holds it): how fields beside the account, such as a profile's bio, are sealed."""
    return keyring.unwrap(account_id, master_key_id, wrapped_key).seal(field, text)


_SELECT = (
    "SELECT a.id, a.email_sealed, a.password_hash_sealed, a.birth_date_sealed, a.created_at,"
    " k.master_key_id, k.wrapped_key FROM accounts a JOIN account_keys k ON k.account = a.id"
)


async def shred_user_keys(user_id: uuid.UUID, db: Database | None = None) -> bool:
    """Destroy the user's data key, so their sealed fields never open again, here or in any copy
    of the data; the email's lookup hash goes too. True if there was a key to destroy.
    The erasure job calls this; the rows themselves are left to it. ``db``: the identity database
    to use when the tables are not bound to one (the ``mydrtv privacy`` commands' own pools)."""
    engine = db.engine if db is not None else AccountKey._meta.db
    async with engine.transaction():
        removed = await engine.run_querystring(
            QueryString("DELETE FROM account_keys WHERE account = {} RETURNING 1", user_id)
        )
        await engine.run_querystring(
            QueryString("UPDATE accounts SET email_hash = NULL WHERE id = {}", user_id)
        )
    return bool(removed)


async def accounts_older_than(db: Database, seconds: float, after: uuid.UUID, limit: int) -> list[uuid.UUID]:
    """Ids of accounts created more than ``seconds`` ago, past ``after``, in id order: the sweep
    of registrations cut short pages through them."""
    rows = await db.fetch(
        "SELECT id FROM accounts WHERE id > {} AND created_at < now() - make_interval(secs => {})"
        " ORDER BY id LIMIT {}",
        after,
        seconds,
        limit,
    )
    return [row["id"] for row in rows]


async def delete_unclaimed(
    db: Database,
    accounts: list[uuid.UUID],
    unclaimed: Callable[[list[uuid.UUID]], Awaitable[list[uuid.UUID]]],
) -> int:
    """Delete those of ``accounts`` that ``unclaimed`` still names once they are locked here (a
    registration holding its row, ``IdentityStore.holding``, is passed by); their data keys,
    consents and profiles go with them (cascade). How many went."""
    async with db.engine.transaction():
        locked = await db.fetch("SELECT id FROM accounts WHERE id = ANY({}) FOR UPDATE SKIP LOCKED", accounts)
        gone = await unclaimed([row["id"] for row in locked])
        if gone:
            await db.fetch("DELETE FROM accounts WHERE id = ANY({})", gone)
    return len(gone)


class IdentityStore:
    def __init__(self, keyring: Keyring) -> None:
        self._keyring = keyring

    async def create(
        self,
        *,
        account_id: uuid.UUID,
        email: str,
        password_hash: str,
        birth_date: date | None,
        consents: dict[str, bool],
        policy_version: str,
    ) -> None:
        sealed = seal_account(self._keyring, account_id, email, password_hash, birth_date)
        taken = Conflict("an account with this email already exists", code="email_taken")
        async with Account._meta.db.transaction():
            older = self._keyring.email_hashes(email)[1:]  # during a rotation: still under an old key
            if older and await Account.raw("SELECT 1 FROM accounts WHERE email_hash = ANY({})", older):
                raise taken
            try:
                await Account.raw(
                    "INSERT INTO accounts (id, email_hash, email_sealed, password_hash_sealed,"
                    " birth_date_sealed) VALUES ({}, {}, {}, {}, {})",
                    account_id,
                    sealed["email_hash"],
                    sealed["email_sealed"],
                    sealed["password_hash_sealed"],
                    sealed["birth_date_sealed"],
                )
            except asyncpg.UniqueViolationError as exc:
                raise taken from exc
            await AccountKey.raw(
                "INSERT INTO account_keys (account, master_key_id, wrapped_key) VALUES ({}, {}, {})",
                account_id,
                sealed["master_key_id"],
                sealed["wrapped_key"],
            )
            await self._record(account_id, consents, policy_version)

    async def delete(self, account_id: uuid.UUID) -> None:
        await Account.delete().where(Account.id == account_id)

    @contextlib.asynccontextmanager
    async def holding(self, account_id: uuid.UUID) -> AsyncIterator[bool]:
        """Hold the account's row locked while inside (the registration writing its public row
        in the other database): ``reclaim`` and the sweep of interrupted registrations pass it
        by. Yields whether the row is there (a retry may have reclaimed it first)."""
        async with Account._meta.db.transaction():
            rows = await Account.raw("SELECT 1 FROM accounts WHERE id = {} FOR UPDATE", account_id)
            yield bool(rows)

    async def reclaim(self, email: str, unclaimed: Callable[[uuid.UUID], Awaitable[bool]]) -> bool:
        """Delete the account that holds ``email`` if it is a registration cut short: no
        registration holds it (``holding``) and ``unclaimed(id)`` finds no public user for it.
        Its data key goes with the row (cascade). True if one went: the email is free again."""
        async with Account._meta.db.transaction():
            rows = await Account.raw(
                "SELECT id FROM accounts WHERE email_hash = ANY({}) FOR UPDATE SKIP LOCKED",
                self._keyring.email_hashes(email),
            )
            if not rows or not await unclaimed(rows[0]["id"]):
                return False
            await Account.raw("DELETE FROM accounts WHERE id = {}", rows[0]["id"])
        return True

    def _open(self, row: dict[str, Any]) -> AccountRecord:
        data_key = self._keyring.unwrap(row["id"], row["master_key_id"], row["wrapped_key"])
        born = row["birth_date_sealed"]
        return AccountRecord(
            id=row["id"],
            email=data_key.open("email", row["email_sealed"]),
            password_hash=data_key.open("password_hash", row["password_hash_sealed"]),
            birth_date=date.fromisoformat(data_key.open("birth_date", born)) if born else None,
            created_at=row["created_at"],
        )

    async def by_email(self, email: str) -> AccountRecord | None:
        rows = await Account.raw(_SELECT + " WHERE a.email_hash = ANY({})", self._keyring.email_hashes(email))
        return self._open(rows[0]) if rows else None

    async def get(self, account_id: uuid.UUID) -> AccountRecord | None:
        """The account, or None if there is none or its data key was shredded."""
        rows = await Account.raw(_SELECT + " WHERE a.id = {}", account_id)
        return self._open(rows[0]) if rows else None

    async def exists(self, account_id: uuid.UUID) -> bool:
        """Whether the account is there and readable (not shredded)."""
        return bool(await AccountKey.raw("SELECT 1 FROM account_keys WHERE account = {}", account_id))

    async def shred(self, account_id: uuid.UUID) -> bool:
        return await shred_user_keys(account_id)

    # Consents: an append-only history of decisions -------------------------------------------------

    async def _record(self, account_id: uuid.UUID, decisions: dict[str, bool], policy_version: str) -> None:
        for purpose, granted in decisions.items():
            await Account.raw(
                "INSERT INTO consents (account, purpose, granted, policy_version) VALUES ({}, {}, {}, {})",
                account_id,
                purpose,
                granted,
                policy_version,
            )

    async def record_consents(
        self, account_id: uuid.UUID, decisions: dict[str, bool], policy_version: str
    ) -> None:
        """Add one row per decision; earlier ones stay, as the history."""
        async with Account._meta.db.transaction():
            await self._record(account_id, decisions, policy_version)

    async def consents(self, account_id: uuid.UUID) -> list[ConsentRecord]:
        """The latest decision for each purpose."""
        rows = await Account.raw(
            "SELECT DISTINCT ON (purpose) purpose, granted, policy_version, recorded_at FROM consents"
            " WHERE account = {} ORDER BY purpose, recorded_at DESC, id DESC",
            account_id,
        )
        return msgspec.convert(rows, list[ConsentRecord])

    async def consent_history(self, account_id: uuid.UUID) -> list[ConsentRecord]:
        """Every decision, oldest first."""
        rows = await Account.raw(
            "SELECT purpose, granted, policy_version, recorded_at FROM consents"
            " WHERE account = {} ORDER BY recorded_at, id",
            account_id,
        )
        return msgspec.convert(rows, list[ConsentRecord])

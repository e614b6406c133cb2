"""Reads and writes of the identity database. The only module that touches personal data."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import asyncpg
import msgspec

from app.identity.tables import Account, Consent
from core.errors import Conflict


class AccountRecord(msgspec.Struct, frozen=True):
    id: uuid.UUID
    email: str
    password_hash: str
    birth_date: date | None
    created_at: datetime


class ConsentRecord(msgspec.Struct, frozen=True):
    purpose: str
    granted: bool
    recorded_at: datetime


class IdentityStore:
    async def create(
        self,
        *,
        account_id: uuid.UUID,
        email: str,
        password_hash: str,
        birth_date: date | None,
        consents: dict[str, bool],
    ) -> None:
        async with Account._meta.db.transaction():
            try:
                await Account.insert(
                    Account(
                        id=account_id,
                        email=email,
                        password_hash=password_hash,
                        birth_date=birth_date,
                    )
                )
            except asyncpg.UniqueViolationError as exc:
                raise Conflict("an account with this email already exists", code="email_taken") from exc
            if consents:
                await Consent.insert(
                    *(Consent(account=account_id, purpose=p, granted=g) for p, g in consents.items())
                )

    async def delete(self, account_id: uuid.UUID) -> None:
        await Account.delete().where(Account.id == account_id)

    async def by_email(self, email: str) -> AccountRecord | None:
        row = await Account.select().where(Account.email == email).first()
        return msgspec.convert(row, AccountRecord) if row else None

    async def get(self, account_id: uuid.UUID) -> AccountRecord | None:
        row = await Account.select().where(Account.id == account_id).first()
        return msgspec.convert(row, AccountRecord) if row else None

    async def consents(self, account_id: uuid.UUID) -> list[ConsentRecord]:
        """The latest decision for each purpose."""
        rows = await Consent.raw(
            "SELECT DISTINCT ON (purpose) purpose, granted, recorded_at FROM consents"
            " WHERE account = {} ORDER BY purpose, recorded_at DESC, id DESC",
            account_id,
        )
        return msgspec.convert(rows, list[ConsentRecord])

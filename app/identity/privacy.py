"""The identity database's personal data part: the account (email, birth date), every consent
decision, and the refresh tokens (their times; never their hashes).

Erasing deletes the ``accounts`` row, and its consents and refresh tokens with it (``ON DELETE
CASCADE``), after ``shred_keys``: where the personal fields are encrypted with a per-user key
(crypto-shredding), destroying that key first makes any backup's copy of the row unreadable.
``on_email`` hears the email just before it goes, for stores keyed by it (login rate limits).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence

from app.privacy.parts import Exported
from core.db import Database

UserHook = Callable[[uuid.UUID], Awaitable[object]]
EmailHook = Callable[[str], Awaitable[object]]


class IdentityPart:
    name = "identity"
    store = "identity"

    def __init__(
        self, identity: Database, *, shred_keys: UserHook | None = None, on_email: Sequence[EmailHook] = ()
    ) -> None:
        self._db = identity
        self._shred = shred_keys
        self._on_email = list(on_email)

    async def export(self, user_id: uuid.UUID) -> Exported:
        account = await self._db.fetch(
            "SELECT id, email, birth_date, created_at FROM accounts WHERE id = {}", user_id
        )
        consents = await self._db.fetch(
            "SELECT purpose, granted, recorded_at FROM consents WHERE account = {} ORDER BY recorded_at, id",
            user_id,
        )
        tokens = await self._db.fetch(
            "SELECT id, issued_at, expires_at, used_at, revoked_at FROM refresh_tokens WHERE account = {}"
            " ORDER BY issued_at",
            user_id,
        )
        return Exported(records={"account": account, "consents": consents, "sessions": tokens})

    async def erase(self, user_id: uuid.UUID) -> dict[str, int]:
        account = await self._db.fetch("SELECT email FROM accounts WHERE id = {}", user_id)
        for hook in self._on_email:
            if account:
                await hook(account[0]["email"])
        if self._shred is not None:
            await self._shred(user_id)
        counts = await self._db.fetch(
            "SELECT (SELECT count(*) FROM consents WHERE account = {}) AS consents,"
            " (SELECT count(*) FROM refresh_tokens WHERE account = {}) AS tokens",
            user_id,
            user_id,
        )
        await self._db.fetch("DELETE FROM accounts WHERE id = {}", user_id)
        return {
            "account": len(account),
            "consents": int(counts[0]["consents"]),
            "refresh_tokens": int(counts[0]["tokens"]),
        }

    async def residue(self, user_id: uuid.UUID) -> list[str]:
        rows = await self._db.fetch(
            "SELECT (SELECT count(*) FROM accounts WHERE id = {}) AS accounts,"
            " (SELECT count(*) FROM consents WHERE account = {}) AS consents,"
            " (SELECT count(*) FROM refresh_tokens WHERE account = {}) AS tokens",
            user_id,
            user_id,
            user_id,
        )
        labels = {"accounts": "account row", "consents": "consent rows", "tokens": "refresh tokens"}
        return [f"{rows[0][k]} {label}" for k, label in labels.items() if rows[0][k]]

    async def revoke_sessions(self, user_id: uuid.UUID) -> int:
        """Sign the user out everywhere (an erasure was asked for): every refresh token revoked."""
        rows = await self._db.fetch(
            "UPDATE refresh_tokens SET revoked_at = now()"
            " WHERE account = {} AND revoked_at IS NULL RETURNING 1",
            user_id,
        )
        return len(rows)

    async def password_hash(self, user_id: uuid.UUID) -> str | None:
        rows = await self._db.fetch("SELECT password_hash FROM accounts WHERE id = {}", user_id)
        return str(rows[0]["password_hash"]) if rows else None

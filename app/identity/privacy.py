"""The identity database's personal data part: the account (email, birth date), every consent
decision, the refresh tokens (their times; never their hashes) and the log of admins' access to
the user's data.

The account's fields are sealed under the user's data key (``app/identity/crypto.py``): export
opens them through the keyring. Erasing first destroys that key (``shred_keys``, crypto-shredding:
every copy of the row, backups included, is ciphertext no one can open), then deletes the
``accounts`` row, and its consents, refresh tokens and profile with it (``ON DELETE CASCADE``).
``on_email`` hears the email just before it becomes unreadable, for stores keyed by it (login
rate limits). Everything here is plain SQL on the given database, so it also runs from the
``mydrtv privacy`` commands, whose pools have no tables bound.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from app.identity.crypto import DataKey, Keyring, KeyringMissing
from app.privacy.parts import Exported
from core.db import Database

UserHook = Callable[[uuid.UUID], Awaitable[object]]
EmailHook = Callable[[str], Awaitable[object]]

_SEALED = (
    "SELECT a.id, a.email_sealed, a.password_hash_sealed, a.birth_date_sealed, a.created_at,"
    " k.master_key_id, k.wrapped_key FROM accounts a LEFT JOIN account_keys k ON k.account = a.id"
    " WHERE a.id = {}"
)


class IdentityPart:
    name = "identity"
    store = "identity"

    def __init__(
        self,
        identity: Database,
        keyring: Keyring | None,
        *,
        shred_keys: UserHook | None = None,
        on_email: Sequence[EmailHook] = (),
    ) -> None:
        self._db = identity
        self._keyring = keyring
        self._shred = shred_keys
        self._on_email = list(on_email)

    async def _sealed(self, user_id: uuid.UUID) -> tuple[dict[str, Any], DataKey | None] | None:
        """The account row and its data key; the key is None once shredded."""
        rows = await self._db.fetch(_SEALED, user_id)
        if not rows:
            return None
        row = rows[0]
        if row["wrapped_key"] is None:
            return row, None
        if self._keyring is None:
            raise KeyringMissing("opening an account's fields needs MYDRTV_PRIVACY_MASTER_KEY")
        return row, self._keyring.unwrap(row["id"], row["master_key_id"], row["wrapped_key"])

    async def export(self, user_id: uuid.UUID) -> Exported:
        account: list[dict[str, Any]] = []
        sealed = await self._sealed(user_id)
        if sealed is not None:
            row, key = sealed
            born = row["birth_date_sealed"]
            account.append(
                {
                    "id": row["id"],
                    "email": key.open("email", row["email_sealed"]) if key else None,
                    "birth_date": key.open("birth_date", born) if key and born else None,
                    "created_at": row["created_at"],
                }
            )
        consents = await self._db.fetch(
            "SELECT purpose, granted, policy_version, recorded_at FROM consents WHERE account = {}"
            " ORDER BY recorded_at, id",
            user_id,
        )
        tokens = await self._db.fetch(
            "SELECT id, issued_at, expires_at, used_at, revoked_at FROM refresh_tokens WHERE account = {}"
            " ORDER BY issued_at",
            user_id,
        )
        accesses = await self._db.fetch(
            "SELECT admin_id, action, at FROM personal_data_access WHERE subject_id = {} ORDER BY id",
            user_id,
        )
        return Exported(
            records={
                "account": account,
                "consents": consents,
                "sessions": tokens,
                "personal_data_access": accesses,
            }
        )

    async def erase(self, user_id: uuid.UUID) -> dict[str, int]:
        sealed = await self._sealed(user_id)
        if sealed is not None and sealed[1] is not None and self._on_email:
            email = sealed[1].open("email", sealed[0]["email_sealed"])
            for hook in self._on_email:
                await hook(email)
        shredded = 0
        if self._shred is not None:
            shredded = int(bool(await self._shred(user_id)))
        counts = await self._db.fetch(
            "SELECT (SELECT count(*) FROM consents WHERE account = {}) AS consents,"
            " (SELECT count(*) FROM refresh_tokens WHERE account = {}) AS tokens",
            user_id,
            user_id,
        )
        deleted = await self._db.fetch("DELETE FROM accounts WHERE id = {} RETURNING 1", user_id)
        return {
            "account": len(deleted),
            "data_key_shredded": shredded,
            "consents": int(counts[0]["consents"]),
            "refresh_tokens": int(counts[0]["tokens"]),
        }

    async def residue(self, user_id: uuid.UUID) -> list[str]:
        rows = await self._db.fetch(
            "SELECT (SELECT count(*) FROM accounts WHERE id = {}) AS accounts,"
            " (SELECT count(*) FROM account_keys WHERE account = {}) AS keys,"
            " (SELECT count(*) FROM accounts WHERE id = {} AND email_hash IS NOT NULL) AS email_hashes,"
            " (SELECT count(*) FROM consents WHERE account = {}) AS consents,"
            " (SELECT count(*) FROM refresh_tokens WHERE account = {}) AS tokens",
            *([user_id] * 5),
        )
        labels = {
            "accounts": "account row",
            "keys": "data key",
            "email_hashes": "email lookup hash",
            "consents": "consent rows",
            "tokens": "refresh tokens",
        }
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
        """The account's argon2id hash, opened; None without an account or once shredded."""
        sealed = await self._sealed(user_id)
        if sealed is None or sealed[1] is None:
            return None
        return sealed[1].open("password_hash", sealed[0]["password_hash_sealed"])

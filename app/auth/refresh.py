"""Rotating refresh tokens with reuse detection.

A login starts a *family*. Each refresh marks the presented token used and issues the next one of
the family. A token presented again after use means it was copied: the whole family is revoked,
so neither the thief nor the owner can go on without logging in again.

Except within a short *reuse grace* after the first use: a browser reloaded while its refresh
was in flight never saw the answer, and presents the spent token again on the next load. Within
the grace that token gets a fresh token of the same family (the secrets of the first answer
are not kept, so it cannot be sent again) instead of ending the login. A thief racing the owner
inside those seconds gains the same; after them reuse is theft, as above.
Only a SHA-256 of each token's secret is stored.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, datetime, timedelta

from core.db import Database
from core.errors import OAuthError


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _parse(token: str) -> tuple[uuid.UUID, str] | None:
    token_id, _, secret = token.partition(".")
    try:
        return uuid.UUID(hex=token_id), secret
    except ValueError:
        return None


class RefreshTokens:
    def __init__(self, db: Database, lifetime_seconds: int, reuse_grace_seconds: float) -> None:
        self._db = db
        self.lifetime = timedelta(seconds=lifetime_seconds)
        self.reuse_grace = timedelta(seconds=reuse_grace_seconds)

    async def issue(self, account: uuid.UUID, family: uuid.UUID | None = None) -> str:
        token_id, secret = uuid.uuid4(), secrets.token_urlsafe(32)
        await self._db.fetch(
            "INSERT INTO refresh_tokens (id, family, account, token_hash, expires_at)"
            " VALUES ({}, {}, {}, {}, {})",
            token_id,
            family or uuid.uuid4(),
            account,
            _hash(secret),
            datetime.now(UTC) + self.lifetime,
        )
        return f"{token_id.hex}.{secret}"

    async def rotate(self, token: str) -> tuple[uuid.UUID, str]:
        """Spend ``token``; returns its account and the family's next token.

        A token spent less than the reuse grace ago is accepted again; its first use stays the
        one the grace counts from, so presenting it over and over does not stretch the grace.
        """
        parsed = _parse(token)
        if parsed is None:
            raise OAuthError("invalid_grant", "the refresh token is not valid")
        token_id, secret = parsed
        async with self._db.engine.transaction():
            rows = await self._db.fetch(
                "UPDATE refresh_tokens SET used_at = coalesce(used_at, now())"
                " WHERE id = {} AND token_hash = {} AND (used_at IS NULL OR used_at > now() - {}::interval)"
                " AND revoked_at IS NULL AND expires_at > now()"
                " RETURNING account, family",
                token_id,
                _hash(secret),
                self.reuse_grace,
            )
            if rows:
                account, family = rows[0]["account"], rows[0]["family"]
                return account, await self.issue(account, family)
        raise await self._refusal(token_id, secret)

    async def _refusal(self, token_id: uuid.UUID, secret: str) -> OAuthError:
        """Why ``token`` cannot be spent; a reused token revokes its family on the way."""
        rows = await self._db.fetch(
            "SELECT family, used_at, revoked_at FROM refresh_tokens WHERE id = {} AND token_hash = {}",
            token_id,
            _hash(secret),
        )
        if not rows:
            return OAuthError("invalid_grant", "the refresh token is not valid")
        row = rows[0]
        if row["used_at"] is not None and row["revoked_at"] is None:
            await self._revoke_family(row["family"])
            return OAuthError(
                "invalid_grant",
                "the refresh token was already used; every token of this login is now revoked",
            )
        if row["revoked_at"] is not None:
            return OAuthError("invalid_grant", "the refresh token has been revoked")
        return OAuthError("invalid_grant", "the refresh token has expired")

    async def revoke(self, token: str) -> None:
        """Revoke the family ``token`` belongs to; an unknown token is silently accepted (RFC 7009)."""
        parsed = _parse(token)
        if parsed is None:
            return
        rows = await self._db.fetch(
            "SELECT family FROM refresh_tokens WHERE id = {} AND token_hash = {}",
            parsed[0],
            _hash(parsed[1]),
        )
        if rows:
            await self._revoke_family(rows[0]["family"])

    async def _revoke_family(self, family: uuid.UUID) -> None:
        await self._db.fetch(
            "UPDATE refresh_tokens SET revoked_at = now() WHERE family = {} AND revoked_at IS NULL",
            family,
        )

    async def purge_expired(self) -> int:
        """Delete tokens past their expiry (retention, docs/privacy.md): they can no longer be
        spent, and reuse detection only concerns tokens still valid. Returns how many went."""
        rows = await self._db.fetch(
            "WITH gone AS (DELETE FROM refresh_tokens WHERE expires_at < now() RETURNING 1)"
            " SELECT count(*) AS n FROM gone"
        )
        return int(rows[0]["n"])

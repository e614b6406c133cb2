"""Users to act as: made straight in the main database, with an access token."""

from __future__ import annotations

import uuid

import asyncpg
import msgspec

from app.auth.tokens import AccessTokens, Principal
from app.settings import Settings


def unique_handle(prefix: str = "user") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Person(msgspec.Struct, frozen=True):
    """A user made straight in the main database, with an access token: quicker than
    registering through the API when a test only needs someone to act as."""

    id: uuid.UUID
    handle: str
    role: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)


async def person(settings: Settings, role: str = "viewer", handle: str | None = None) -> Person:
    user_id, handle = uuid.uuid4(), handle or unique_handle(role)
    connection = await asyncpg.connect(settings.database_url)
    try:
        await connection.execute(
            "INSERT INTO users (id, handle, role) VALUES ($1, $2, $3)", user_id, handle, role
        )
    finally:
        await connection.close()
    tokens = AccessTokens(settings.jwt_secret, settings.jwt_issuer, settings.access_token_seconds)
    token = tokens.issue(Principal(id=user_id, handle=handle, role=role))
    return Person(id=user_id, handle=handle, role=role, token=token)

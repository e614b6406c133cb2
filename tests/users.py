"""Helpers to register and log in users through the public API, and to read what was logged
about them."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from litestar.testing import AsyncTestClient

from core.settings import Settings
from support.people import Person, bearer, person, unique_handle

__all__ = [
    "PASSWORD",
    "Person",
    "access_log",
    "bearer",
    "login",
    "person",
    "refresh",
    "register",
    "unique_handle",
]

PASSWORD = "correct horse battery staple"


async def register(client: AsyncTestClient[Any], handle: str | None = None, **fields: Any) -> dict[str, Any]:
    handle = handle or unique_handle()
    body = {"email": f"{handle}@example.com", "password": PASSWORD, "handle": handle, **fields}
    response = await client.post("/accounts", json=body)
    assert response.status_code == 201, response.text
    return {**response.json(), "email": body["email"], "password": body["password"]}


async def login(client: AsyncTestClient[Any], email: str, password: str = PASSWORD) -> dict[str, Any]:
    response = await client.post(
        "/auth/token", data={"grant_type": "password", "username": email, "password": password}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def refresh(client: AsyncTestClient[Any], token: str) -> Any:
    return await client.post("/auth/token", data={"grant_type": "refresh_token", "refresh_token": token})


async def access_log(settings: Settings, subject: uuid.UUID) -> list[tuple[uuid.UUID, str]]:
    """The personal-data access log's entries about ``subject``: (admin, action), oldest first."""
    connection = await asyncpg.connect(settings.identity_database_url)
    try:
        rows = await connection.fetch(
            "SELECT admin_id, action FROM personal_data_access WHERE subject_id = $1 ORDER BY id", subject
        )
    finally:
        await connection.close()
    return [(row["admin_id"], row["action"]) for row in rows]

"""Helpers to register and log in users through the public API."""

from __future__ import annotations

import uuid
from typing import Any

from litestar.testing import AsyncTestClient

PASSWORD = "correct horse battery staple"


def unique_handle(prefix: str = "user") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


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


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}

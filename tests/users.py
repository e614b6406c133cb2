"""Helpers to register and log in users through the public API."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from support.people import Person, bearer, person, unique_handle

__all__ = ["PASSWORD", "Person", "bearer", "login", "person", "refresh", "register", "unique_handle"]

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

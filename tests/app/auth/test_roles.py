from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import jwt
import pytest
from litestar.testing import AsyncTestClient

from core.settings import Settings
from tests.users import PASSWORD, bearer, login, refresh, register, unique_handle


@pytest.fixture(scope="module")
def admin(settings: Settings) -> dict[str, str]:
    """The first admin, made the way an operator makes one: with ``mydrtv create-admin``."""
    handle = unique_handle("admin")
    env = {
        **os.environ,
        "MYDRTV_DATABASE_URL": settings.database_url,
        "MYDRTV_IDENTITY_DATABASE_URL": settings.identity_database_url,
        "MYDRTV_PRIVACY_MASTER_KEY": settings.privacy_master_key,
        "MYDRTV_ADMIN_PASSWORD": PASSWORD,
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "server.cli",
            "create-admin",
            "--email",
            f"{handle}@example.com",
            "--handle",
            handle,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert f"created admin @{handle}" in result.stdout
    return {"handle": handle, "email": f"{handle}@example.com"}


async def test_admin_grants_a_role_that_reaches_the_next_token(
    client: AsyncTestClient[Any], admin: dict[str, str]
) -> None:
    admin_tokens = await login(client, admin["email"])
    user = await register(client)
    user_tokens = await login(client, user["email"])

    response = await client.put(
        f"/users/{user['id']}/role", json={"role": "moderator"}, headers=bearer(admin_tokens["access_token"])
    )
    assert response.status_code == 200
    assert response.json()["role"] == "moderator"

    refreshed = (await refresh(client, user_tokens["refresh_token"])).json()
    claims = jwt.decode(refreshed["access_token"], options={"verify_signature": False})
    assert claims["role"] == "moderator"


@pytest.mark.parametrize("role", ["viewer", "moderator"])
async def test_only_admins_grant_roles(
    client: AsyncTestClient[Any], role: str, admin: dict[str, str]
) -> None:
    admin_tokens = await login(client, admin["email"])
    actor = await register(client)
    if role != "viewer":
        await client.put(
            f"/users/{actor['id']}/role", json={"role": role}, headers=bearer(admin_tokens["access_token"])
        )
    actor_tokens = await login(client, actor["email"])
    target = await register(client)
    response = await client.put(
        f"/users/{target['id']}/role", json={"role": "admin"}, headers=bearer(actor_tokens["access_token"])
    )
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden_role"


async def test_anonymous_cannot_grant_roles(client: AsyncTestClient[Any]) -> None:
    target = await register(client)
    response = await client.put(f"/users/{target['id']}/role", json={"role": "admin"})
    assert response.status_code == 401


async def test_bad_role_changes(client: AsyncTestClient[Any], admin: dict[str, str]) -> None:
    tokens = await login(client, admin["email"])
    me = (await client.get("/me", headers=bearer(tokens["access_token"]))).json()
    assert me["role"] == "admin"
    headers = bearer(tokens["access_token"])

    own = await client.put(f"/users/{me['id']}/role", json={"role": "viewer"}, headers=headers)
    assert own.status_code == 400
    assert own.json()["error"] == "own_role"

    unknown = await client.put(
        "/users/00000000-0000-0000-0000-000000000000/role", json={"role": "moderator"}, headers=headers
    )
    assert unknown.status_code == 404
    assert unknown.json()["error"] == "user_not_found"

    target = await register(client)
    invalid = await client.put(f"/users/{target['id']}/role", json={"role": "emperor"}, headers=headers)
    assert invalid.status_code == 400
    assert invalid.json()["error"] == "invalid_request"

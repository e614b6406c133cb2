"""``GET/PUT /me/consents``: state per purpose with its policy version, an append-only history,
and the personalization flag the main database mirrors."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import msgspec
from litestar.testing import AsyncTestClient

from core.settings import Settings
from server.factory import create_app
from tests.users import bearer, login, person, register

Client = AsyncTestClient[Any]


async def signed_in(client: Client, **fields: Any) -> tuple[dict[str, Any], dict[str, str]]:
    user = await register(client, **fields)
    return user, bearer((await login(client, user["email"]))["access_token"])


def state(body: dict[str, Any]) -> dict[str, tuple[bool, bool]]:
    return {p["purpose"]: (p["granted"], p["decided"]) for p in body["purposes"]}


async def flag(settings: Settings, user_id: str) -> bool:
    connection = await asyncpg.connect(settings.database_url)
    try:
        return bool(
            await connection.fetchval("SELECT personalization FROM users WHERE id = $1", uuid.UUID(user_id))
        )
    finally:
        await connection.close()


async def test_defaults_then_decisions_with_their_history(client: Client, settings: Settings) -> None:
    user, headers = await signed_in(client)
    body = (await client.get("/me/consents", headers=headers)).json()
    assert body["policy_version"] == settings.privacy_policy_version
    assert state(body) == {
        "essential": (True, False),
        "personalization": (True, False),
        "analytics": (False, False),
    }
    assert body["history"] == []
    assert await flag(settings, user["id"]) is True

    changed = await client.put(
        "/me/consents", json={"consents": {"personalization": False, "analytics": True}}, headers=headers
    )
    assert changed.status_code == 200, changed.text
    assert state(changed.json())["personalization"] == (False, True)
    assert state(changed.json())["analytics"] == (True, True)
    assert await flag(settings, user["id"]) is False

    await client.put("/me/consents", json={"consents": {"personalization": True}}, headers=headers)
    body = (await client.get("/me/consents", headers=headers)).json()
    assert state(body)["personalization"] == (True, True)
    assert await flag(settings, user["id"]) is True
    # Every decision is kept, in the order made, each with the policy version in force.
    assert [(h["purpose"], h["granted"]) for h in body["history"]] == [
        ("personalization", False),
        ("analytics", True),
        ("personalization", True),
    ]
    assert {h["policy_version"] for h in body["history"]} == {settings.privacy_policy_version}


async def test_the_policy_version_in_force_is_recorded(settings: Settings) -> None:
    changed = msgspec.structs.replace(settings, privacy_policy_version="2026-12")
    async with AsyncTestClient(app=create_app(changed)) as client:
        _, headers = await signed_in(client)
        body = (
            await client.put("/me/consents", json={"consents": {"analytics": True}}, headers=headers)
        ).json()
    assert body["policy_version"] == "2026-12"
    assert [p["policy_version"] for p in body["purposes"] if p["purpose"] == "analytics"] == ["2026-12"]


async def test_registration_consents_set_the_state_and_the_flag(client: Client, settings: Settings) -> None:
    user, headers = await signed_in(client, consents={"personalization": False})
    assert state((await client.get("/me/consents", headers=headers)).json())["personalization"] == (
        False,
        True,
    )
    assert await flag(settings, user["id"]) is False


async def test_bad_changes_are_refused(client: Client, settings: Settings) -> None:
    _, headers = await signed_in(client)
    for body, status, code in [
        ({"consents": {"essential": False}}, 400, "essential_required"),
        ({"consents": {"marketing": True}}, 400, "invalid_request"),
        ({"consents": {"analytics": "yes"}}, 400, "invalid_request"),
        ({"nothing": 1}, 400, "invalid_request"),
    ]:
        response = await client.put("/me/consents", json=body, headers=headers)
        assert response.status_code == status and response.json()["error"] == code, response.text
    assert (await client.get("/me/consents")).status_code == 401
    # A user with no identity account (a registration cut short) has nothing to record consent in.
    orphan = await person(settings)
    missing = await client.put("/me/consents", json={"consents": {"analytics": True}}, headers=orphan.headers)
    assert missing.status_code == 404 and missing.json()["error"] == "user_not_found"
    refused = await client.post(
        "/accounts",
        json={
            "email": f"e{uuid.uuid4().hex[:8]}@example.com",
            "password": "correct horse battery staple",
            "handle": f"e_{uuid.uuid4().hex[:8]}",
            "consents": {"essential": False},
        },
    )
    assert refused.status_code == 400 and refused.json()["error"] == "essential_required"

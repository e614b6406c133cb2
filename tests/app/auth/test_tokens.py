from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from core.settings import Settings
from core.tokens import AccessTokens, Principal
from tests.users import bearer, login, refresh, register


async def test_password_grant_issues_tokens(client: AsyncTestClient[Any], settings: Settings) -> None:
    user = await register(client)
    response = await client.post(
        "/auth/token",
        data={"grant_type": "password", "username": user["email"], "password": user["password"]},
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == settings.access_token_seconds
    me = await client.get("/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["handle"] == user["handle"]


async def test_wrong_password_and_unknown_email_look_the_same(client: AsyncTestClient[Any]) -> None:
    user = await register(client)
    wrong = await client.post(
        "/auth/token",
        data={"grant_type": "password", "username": user["email"], "password": "nope-nope-nope"},
    )
    unknown = await client.post(
        "/auth/token",
        data={"grant_type": "password", "username": "nobody@example.com", "password": "nope-nope-nope"},
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"] == "invalid_grant"
    assert wrong.json()["error_description"]
    assert wrong.headers["www-authenticate"] == "Bearer"


async def test_refresh_rotates_and_reuse_revokes_the_family(
    app_client: Callable[..., AsyncTestClient[Any]],
) -> None:
    # No reuse grace: the second presentation of a token is theft at once.
    async with app_client(refresh_reuse_grace_seconds=0) as client:
        user = await register(client)
        first = await login(client, user["email"])
        second = await refresh(client, first["refresh_token"])
        assert second.status_code == 200
        rotated = second.json()
        assert rotated["refresh_token"] != first["refresh_token"]
        assert (await client.get("/me", headers=bearer(rotated["access_token"]))).status_code == 200

        # The first token, presented again, is a theft signal: the whole family goes.
        reused = await refresh(client, first["refresh_token"])
        assert reused.status_code == 400
        assert reused.json()["error"] == "invalid_grant"
        assert "already used" in reused.json()["message"]
        latest = await refresh(client, rotated["refresh_token"])
        assert latest.status_code == 400
        assert latest.json()["error"] == "invalid_grant"

        # Another login of the same user is a different family and keeps working.
        other = await login(client, user["email"])
        assert (await refresh(client, other["refresh_token"])).status_code == 200


async def test_reuse_within_the_grace_keeps_the_login(client: AsyncTestClient[Any]) -> None:
    """A page reloaded while its refresh was in flight presents the spent token again: not theft."""
    user = await register(client)
    first = await login(client, user["email"])
    lost = await refresh(client, first["refresh_token"])  # the answer the reload threw away
    assert lost.status_code == 200

    again = await refresh(client, first["refresh_token"])
    assert again.status_code == 200, again.text
    successor = again.json()
    assert successor["refresh_token"] not in (first["refresh_token"], lost.json()["refresh_token"])
    assert (await client.get("/me", headers=bearer(successor["access_token"]))).status_code == 200
    # The login goes on: the new token rotates as usual, and so does the lost one if it turns up.
    assert (await refresh(client, successor["refresh_token"])).status_code == 200
    assert (await refresh(client, lost.json()["refresh_token"])).status_code == 200


async def test_reuse_after_the_grace_revokes_the_family(
    client: AsyncTestClient[Any], settings: Settings
) -> None:
    user = await register(client)
    first = await login(client, user["email"])
    rotated = (await refresh(client, first["refresh_token"])).json()
    # The token was spent longer ago than the grace (the default one), as if time had passed.
    identity = await asyncpg.connect(settings.identity_database_url)
    try:
        await identity.execute(
            "UPDATE refresh_tokens SET used_at = now() - make_interval(secs => $1 + 1) WHERE id = $2",
            Settings().refresh_reuse_grace_seconds,
            uuid.UUID(hex=first["refresh_token"].partition(".")[0]),
        )
    finally:
        await identity.close()

    reused = await refresh(client, first["refresh_token"])
    assert reused.status_code == 400
    assert "already used" in reused.json()["message"]
    assert (await refresh(client, rotated["refresh_token"])).json()["message"] == (
        "the refresh token has been revoked"
    )


async def test_a_revoked_token_gets_no_grace(client: AsyncTestClient[Any]) -> None:
    user = await register(client)
    first = await login(client, user["email"])
    assert (await refresh(client, first["refresh_token"])).status_code == 200
    assert (await client.post("/auth/revoke", data={"token": first["refresh_token"]})).status_code == 200
    again = await refresh(client, first["refresh_token"])
    assert again.status_code == 400
    assert again.json()["message"] == "the refresh token has been revoked"


async def test_revoke_logs_out(client: AsyncTestClient[Any]) -> None:
    user = await register(client)
    tokens = await login(client, user["email"])
    rotated = (await refresh(client, tokens["refresh_token"])).json()
    response = await client.post("/auth/revoke", data={"token": rotated["refresh_token"]})
    assert response.status_code == 200
    after = await refresh(client, rotated["refresh_token"])
    assert after.status_code == 400
    assert after.json()["message"] == "the refresh token has been revoked"


@pytest.mark.parametrize("token", ["", "garbage", f"{uuid.uuid4().hex}.secret"])
async def test_revoking_an_unknown_token_is_accepted(client: AsyncTestClient[Any], token: str) -> None:
    response = await client.post("/auth/revoke", data={"token": token})
    if token:
        assert response.status_code == 200
    else:
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize("token", ["garbage", f"{uuid.uuid4().hex}.secret", "not-a-uuid.secret"])
async def test_unknown_refresh_token_is_refused(client: AsyncTestClient[Any], token: str) -> None:
    response = await refresh(client, token)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": "client_credentials"}, "unsupported_grant_type"),
        ({}, "invalid_request"),
        ({"grant_type": "password", "username": "a@example.com"}, "invalid_request"),
        ({"grant_type": "refresh_token"}, "invalid_request"),
    ],
)
async def test_token_endpoint_errors_follow_rfc_6749(
    client: AsyncTestClient[Any], form: dict[str, str], error: str
) -> None:
    response = await client.post("/auth/token", data=form)
    assert response.status_code == 400
    assert response.json()["error"] == error


async def test_token_endpoint_wants_a_form(client: AsyncTestClient[Any]) -> None:
    response = await client.post("/auth/token", json={"grant_type": "password"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_me_needs_a_valid_unexpired_token(client: AsyncTestClient[Any], settings: Settings) -> None:
    user = await register(client)
    missing = await client.get("/me")
    assert missing.status_code == 401
    assert missing.json()["error"] == "unauthenticated"
    assert missing.headers["www-authenticate"] == "Bearer"

    tokens = await login(client, user["email"])
    tampered = tokens["access_token"][:-4] + "AAAA"
    assert (await client.get("/me", headers=bearer(tampered))).json()["error"] == "invalid_token"

    forged = AccessTokens("another-secret-that-is-long-enough-for-hs256", settings.jwt_issuer, 900).issue(
        Principal(id=uuid.UUID(user["id"]), handle=user["handle"], role="admin")
    )
    assert (await client.get("/me", headers=bearer(forged))).json()["error"] == "invalid_token"

    expired = AccessTokens(settings.jwt_secret, settings.jwt_issuer, -60).issue(
        Principal(id=uuid.UUID(user["id"]), handle=user["handle"], role="viewer")
    )
    response = await client.get("/me", headers=bearer(expired))
    assert response.status_code == 401
    assert response.json()["error"] == "token_expired"

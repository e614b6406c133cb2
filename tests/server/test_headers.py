"""Security headers on every response and the CORS policy from settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.users import login, register

Client = AsyncTestClient[Any]
ALLOWED = "https://web.mydrtv.example"
REFUSED = "https://evil.example"


def _assert_secure(response: Any) -> None:
    headers = response.headers
    assert headers["x-content-type-options"] == "nosniff", response.request.url
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]


async def test_every_response_carries_the_security_headers(client: Client) -> None:
    for response in (
        await client.get("/health/live"),
        await client.get("/videos"),
        await client.get("/no/such/route"),  # a 404 from the router itself
        await client.get("/me"),  # a 401
        await client.post("/videos", content=b"{}", headers={"Content-Type": "text/plain"}),
    ):
        _assert_secure(response)
        assert "strict-transport-security" not in response.headers  # not over TLS by default


async def test_personal_data_is_never_stored_by_caches(client: Client) -> None:
    user = await register(client)
    registered = await client.post(
        "/accounts",
        json={"email": "x@example.com", "password": "p", "handle": "bad handle"},  # an error: no-store too
    )
    tokens = await client.post(
        "/auth/token",
        data={"grant_type": "password", "username": user["email"], "password": user["password"]},
    )
    me = await client.get("/me", headers={"Authorization": f"Bearer {tokens.json()['access_token']}"})
    for response in (registered, tokens, me):
        assert response.headers["cache-control"] == "no-store", response.request.url
    assert me.json()["email"] == user["email"]


async def test_hsts_when_served_over_tls(app_client: Callable[..., Client]) -> None:
    async with app_client(served_over_tls=True) as client:
        response = await client.get("/health/live")
    assert response.headers["strict-transport-security"].startswith("max-age=31536000")
    _assert_secure(response)


async def test_no_cors_by_default(client: Client) -> None:
    preflight = await client.options(
        "/videos", headers={"Origin": ALLOWED, "Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-origin" not in preflight.headers
    simple = await client.get("/videos", headers={"Origin": ALLOWED})
    assert "access-control-allow-origin" not in simple.headers


@pytest.mark.parametrize("origins", [ALLOWED, f"https://other.example, {ALLOWED}/"])
async def test_cors_lets_the_configured_origins_in(app_client: Callable[..., Client], origins: str) -> None:
    async with app_client(cors_origins=origins) as client:
        user = await register(client)
        token = (await login(client, user["email"]))["access_token"]
        preflight = await client.options(
            "/videos",
            headers={
                "Origin": ALLOWED,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )
        assert preflight.status_code == 204, preflight.text
        assert preflight.headers["access-control-allow-origin"] == ALLOWED
        assert "POST" in preflight.headers["access-control-allow-methods"]
        allowed_headers = preflight.headers["access-control-allow-headers"].lower()
        assert "authorization" in allowed_headers and "content-type" in allowed_headers
        assert "access-control-allow-credentials" not in preflight.headers

        made = await client.post(
            "/videos",
            json={"title": "From the web"},
            headers={"Origin": ALLOWED, "Authorization": f"Bearer {token}"},
        )
        assert made.status_code == 201
        assert made.headers["access-control-allow-origin"] == ALLOWED
        assert "retry-after" in made.headers["access-control-expose-headers"].lower()
        _assert_secure(made)


async def test_cors_refuses_other_origins(app_client: Callable[..., Client]) -> None:
    async with app_client(cors_origins=ALLOWED) as client:
        preflight = await client.options(
            "/videos", headers={"Origin": REFUSED, "Access-Control-Request-Method": "POST"}
        )
        assert preflight.status_code == 400
        assert preflight.json()["error"] == "cors_refused", preflight.text
        assert "access-control-allow-origin" not in preflight.headers
        _assert_secure(preflight)
        simple = await client.get("/videos", headers={"Origin": REFUSED})
        assert simple.status_code == 200  # answered, but the browser keeps it from the page
        assert "access-control-allow-origin" not in simple.headers
        assert "Origin" in simple.headers["vary"]  # a shared cache keeps it apart from allowed answers
        _assert_secure(simple)

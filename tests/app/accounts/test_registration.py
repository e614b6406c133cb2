from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from core.settings import Settings
from tests.users import PASSWORD, bearer, login, register, unique_handle


async def test_register_then_me_shows_personal_data(client: AsyncTestClient[Any]) -> None:
    handle = unique_handle("Alice")
    user = await register(
        client,
        handle=handle,
        email=f"{handle}@Example.COM",
        birth_date="1990-05-17",
        consents={"personalization": True, "analytics": False},
    )
    assert user["handle"] == handle.lower()
    assert user["role"] == "viewer"

    tokens = await login(client, f"{handle.lower()}@example.com")
    me = (await client.get("/me", headers=bearer(tokens["access_token"]))).json()
    assert me["id"] == user["id"]
    assert me["email"] == f"{handle.lower()}@example.com"
    assert me["birth_date"] == "1990-05-17"
    assert {c["purpose"]: c["granted"] for c in me["consents"]} == {
        "personalization": True,
        "analytics": False,
    }


async def test_public_profile_has_no_personal_data(client: AsyncTestClient[Any]) -> None:
    user = await register(client, birth_date="1985-01-01")
    response = await client.get(f"/users/{user['handle']}")
    assert response.status_code == 200
    # What a user chose to show (the profile's fields, empty until set) and public counts only.
    assert set(response.json()) == {
        "id",
        "handle",
        "role",
        "created_at",
        "display_name",
        "bio",
        "avatar",
        "counts",
        "relationship",
    }
    assert user["email"] not in response.text and "1985" not in response.text


@pytest.mark.parametrize("email", ["", "not-an-email", "a@b", "two@@example.com"])
async def test_malformed_email_is_refused(client: AsyncTestClient[Any], email: str) -> None:
    response = await client.post(
        "/accounts", json={"email": email, "password": PASSWORD, "handle": unique_handle()}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_email"
    assert response.json()["message"]


@pytest.mark.parametrize("password", ["", "short", "password123", "aaaaaaaaaaaa", "x" * 129])
async def test_weak_password_is_refused(client: AsyncTestClient[Any], password: str) -> None:
    handle = unique_handle()
    response = await client.post(
        "/accounts", json={"email": f"{handle}@example.com", "password": password, "handle": handle}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "weak_password"


async def test_password_made_of_the_handle_is_weak(client: AsyncTestClient[Any]) -> None:
    handle = unique_handle("zebra_crossing")
    response = await client.post(
        "/accounts", json={"email": f"{handle}@example.com", "password": handle, "handle": handle}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "weak_password"


async def test_duplicate_email_conflicts_whatever_its_case(client: AsyncTestClient[Any]) -> None:
    user = await register(client)
    response = await client.post(
        "/accounts",
        json={"email": user["email"].upper(), "password": PASSWORD, "handle": unique_handle()},
    )
    assert response.status_code == 409
    assert response.json()["error"] == "email_taken"


async def test_duplicate_handle_conflicts_and_frees_the_email(client: AsyncTestClient[Any]) -> None:
    taken = await register(client)
    email = f"{unique_handle()}@example.com"
    response = await client.post(
        "/accounts", json={"email": email, "password": PASSWORD, "handle": taken["handle"]}
    )
    assert response.status_code == 409
    assert response.json()["error"] == "handle_taken"
    # The identity row written before the clash was removed: the email can register again.
    again = await client.post(
        "/accounts", json={"email": email, "password": PASSWORD, "handle": unique_handle()}
    )
    assert again.status_code == 201


@pytest.mark.parametrize("handle", ["ab", "has space", "semi;colon", "x" * 31])
async def test_malformed_handle_is_refused(client: AsyncTestClient[Any], handle: str) -> None:
    response = await client.post(
        "/accounts", json={"email": f"{unique_handle()}@example.com", "password": PASSWORD, "handle": handle}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_handle"


@pytest.mark.parametrize(
    ("born", "reason"),
    [
        ((date.today() + timedelta(days=2)).isoformat(), "invalid_birth_date"),
        ((date.today() - timedelta(days=365 * 5)).isoformat(), "too_young"),
    ],
)
async def test_bad_birth_date_is_refused(client: AsyncTestClient[Any], born: str, reason: str) -> None:
    handle = unique_handle()
    response = await client.post(
        "/accounts",
        json={"email": f"{handle}@example.com", "password": PASSWORD, "handle": handle, "birth_date": born},
    )
    assert response.status_code == 400
    assert response.json()["error"] == reason


@pytest.mark.parametrize(
    "body",
    [
        {"email": "x@example.com", "password": PASSWORD},  # no handle
        {"email": 5, "password": PASSWORD, "handle": "valid_one"},
        {"email": "x@example.com", "password": PASSWORD, "handle": "valid_one", "admin": True},
        {"email": "x@example.com", "password": PASSWORD, "handle": "valid_one", "birth_date": "soon"},
    ],
)
async def test_malformed_body_gets_the_error_shape(
    client: AsyncTestClient[Any], body: dict[str, Any]
) -> None:
    response = await client.post("/accounts", json=body)
    assert response.status_code == 400
    payload = response.json()
    assert payload["error"] == "invalid_request"
    assert payload["message"]


async def test_unknown_route_gets_the_error_shape(client: AsyncTestClient[Any]) -> None:
    response = await client.get("/no/such/thing")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


async def test_personal_data_lives_only_in_the_identity_database(
    client: AsyncTestClient[Any], settings: Settings
) -> None:
    user = await register(client, birth_date="1970-01-01")
    main = await asyncpg.connect(settings.database_url)
    identity = await asyncpg.connect(settings.identity_database_url)
    try:
        main_columns = {
            r["column_name"]
            for r in await main.fetch(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public'"
            )
        }
        assert not main_columns & {"email", "password_hash", "birth_date", "purpose", "granted"}
        # Nothing in the main database holds the email, in any column of any table.
        dump = await main.fetchval("SELECT string_agg(u::text, ' ') FROM users u")
        assert user["email"] not in dump
        # No foreign key in either database points at the other's tables.
        for connection, foreign in ((main, "accounts"), (identity, "users")):
            fks = await connection.fetch(
                "SELECT ccu.table_name FROM information_schema.constraint_column_usage ccu"
                " JOIN information_schema.table_constraints tc USING (constraint_name)"
                " WHERE tc.constraint_type = 'FOREIGN KEY'"
            )
            assert foreign not in {r["table_name"] for r in fks}
        # The identity row holds the email only sealed: not in any column in clear.
        row = await identity.fetchval("SELECT a::text FROM accounts a WHERE id = $1", _uuid(user["id"]))
        assert row and user["email"] not in row
    finally:
        await main.close()
        await identity.close()


def _uuid(value: str) -> Any:
    import uuid

    return uuid.UUID(value)

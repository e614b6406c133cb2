"""Crypto-shredding against a real identity database: a copy of the rows taken before the key is
destroyed holds nothing readable afterwards, restored or not."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from app.identity.crypto import DataKey, Keyring, Unreadable, parse_master_key
from app.identity.profiles import ProfileStore
from app.identity.store import IdentityStore, shred_user_keys
from app.identity.tables import TABLES
from core.db import Database
from core.settings import Settings
from server.factory import create_app
from tests.users import PASSWORD, bearer, login, register

# What a data backup holds (docs/privacy.md, "Backups"): every identity table but the data keys.
BACKED_UP = ("accounts", "consents", "refresh_tokens", "profiles")


async def rows_of(connection: asyncpg.Connection, account: uuid.UUID) -> dict[str, list[asyncpg.Record]]:
    """The user's rows, as a dump would carry them."""
    column = {"accounts": "id", "consents": "account", "refresh_tokens": "account", "profiles": "account"}
    return {
        table: await connection.fetch(f"SELECT * FROM {table} WHERE {column[table]} = $1", account)
        for table in BACKED_UP
    }


async def restore(connection: asyncpg.Connection, dump: dict[str, list[asyncpg.Record]]) -> None:
    for table in BACKED_UP:
        for row in dump[table]:
            names = list(row.keys())
            places = ", ".join(f"${i + 1}" for i in range(len(names)))
            await connection.execute(
                f"INSERT INTO {table} ({', '.join(names)}) VALUES ({places})", *row.values()
            )


def holds(dump: dict[str, list[asyncpg.Record]], secret: str) -> bool:
    """Whether any value of any row carries ``secret``, as text or as bytes."""
    for rows in dump.values():
        for row in rows:
            for value in row.values():
                raw = bytes(value) if isinstance(value, bytes | memoryview) else str(value).encode()
                if secret.encode() in raw or secret.encode().hex().encode() in raw:
                    return True
    return False


async def test_a_copy_taken_before_shredding_is_unreadable_after_it(
    client: AsyncTestClient[Any], settings: Settings
) -> None:
    bystander = await register(client)
    user = await register(client, birth_date="1984-02-29", consents={"analytics": True})
    account = uuid.UUID(user["id"])
    tokens = await login(client, user["email"])
    assert (await client.get("/me", headers=bearer(tokens["access_token"]))).json()["email"] == user["email"]
    bio = f"{user['handle']} keeps bees"
    profile = {"display_name": "Beekeeper", "bio": bio}
    changed = await client.patch("/me/profile", json=profile, headers=bearer(tokens["access_token"]))
    assert changed.status_code == 200, changed.text

    connection = await asyncpg.connect(settings.identity_database_url)
    # The store's tables bind to one engine per process: this test's, until the app below starts.
    identity = Database("identity", settings.identity_database_url, TABLES)
    await identity.start(max_size=1)
    try:
        dump = await rows_of(connection, account)
        assert dump["accounts"] and dump["consents"] and dump["refresh_tokens"] and dump["profiles"]
        # Sealed from the start: no column holds the email, the birth date or the bio in clear.
        assert not holds(dump, user["email"]) and not holds(dump, "1984-02-29") and not holds(dump, bio)
        # The display name is in clear (people search needs it): replaying the erasures after a
        # restore deletes it (tests/app/privacy/test_lifecycle.py).
        assert holds(dump, "Beekeeper")

        assert await shred_user_keys(account) is True
        assert await shred_user_keys(account) is False  # nothing left to destroy
        assert await connection.fetchval("SELECT count(*) FROM account_keys WHERE account = $1", account) == 0

        # The erasure job then deletes the rows; the old copy comes back from backup.
        await connection.execute("DELETE FROM accounts WHERE id = $1", account)
        await restore(connection, dump)

        store = IdentityStore(Keyring.from_settings(settings.privacy_master_key))
        assert await store.get(account) is None  # no key, no account
        restored_profile = await ProfileStore(
            identity, Keyring.from_settings(settings.privacy_master_key)
        ).get(account)
        assert restored_profile is not None and restored_profile.bio is None
        assert await store.by_email(user["email"]) is None
        assert (await store.by_email(bystander["email"])) is not None  # others are untouched
        # Nor does any key left open the sealed email: not the master key itself, not another
        # account's data key. Only the shredded key did.
        sealed = dump["accounts"][0]["email_sealed"]
        keyring = Keyring.from_settings(settings.privacy_master_key)
        others = await identity.fetch("SELECT account, master_key_id, wrapped_key FROM account_keys")
        assert others  # the bystander's
        candidates = [DataKey(account, parse_master_key(settings.privacy_master_key))] + [
            DataKey(account, keyring.unwrap(o["account"], o["master_key_id"], o["wrapped_key"]).key)
            for o in others
        ]
        sealed_bio = dump["profiles"][0]["bio_sealed"]
        for key in candidates:
            with pytest.raises(Unreadable):
                key.open("email", sealed)
            with pytest.raises(Unreadable):
                key.open("bio", sealed_bio)
    finally:
        await identity.stop()
        await connection.close()

    # Through the API: the restored account neither signs in nor reads as the user's.
    async with AsyncTestClient(app=create_app(settings)) as api:
        assert (await api.get("/me", headers=bearer(tokens["access_token"]))).status_code == 404
        refused = await api.post(
            "/auth/token", data={"grant_type": "password", "username": user["email"], "password": PASSWORD}
        )
        assert refused.status_code == 401 and refused.json()["error"] == "invalid_grant"
        assert (await login(api, bystander["email"]))["access_token"]

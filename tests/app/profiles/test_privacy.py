"""Export and erasure of a profile, the functions the privacy work calls: everything profiles keep
about a user comes out, and erasure leaves neither the row nor an avatar file behind."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from app.identity.crypto import Keyring, Unreadable
from app.identity.profiles import ProfileStore
from app.identity.store import shred_user_keys
from app.profiles.service import ProfileService
from core.db import Database
from core.settings import Settings
from media.storage import open_storage
from tests.app.profiles.helpers import jpeg_with_gps, member

Client = AsyncTestClient[Any]


@pytest.fixture
async def profiles(profile_settings: Settings) -> AsyncIterator[ProfileService]:
    main = Database("main", profile_settings.database_url)
    identity = Database("identity", profile_settings.identity_database_url)
    await main.start(max_size=2)
    await identity.start(max_size=2)
    storage = open_storage(profile_settings.storage_url)
    keyring = Keyring.from_settings(profile_settings.privacy_master_key)
    yield ProfileService(main, ProfileStore(identity, keyring), storage)
    await storage.close()
    await identity.stop()
    await main.stop()


async def test_export_holds_every_profile_field(
    api: Client, profile_settings: Settings, profiles: ProfileService
) -> None:
    me = await member(profile_settings)
    assert await profiles.export(me.id) == {
        "display_name": None,
        "bio": None,
        "avatar": None,
        "updated_at": None,
    }
    await api.patch("/me/profile", json={"display_name": "Ana", "bio": "Hi"}, headers=me.headers)
    upload = await api.put(
        "/me/avatar", content=jpeg_with_gps(), headers={**me.headers, "content-type": "image/jpeg"}
    )
    exported = await profiles.export(me.id)
    assert (exported["display_name"], exported["bio"]) == ("Ana", "Hi")
    assert exported["avatar"] == upload.json()["avatar"]
    assert exported["updated_at"] == upload.json()["updated_at"].replace("Z", "+00:00")


async def test_erase_removes_the_row_and_every_avatar_file(
    api: Client, profile_settings: Settings, profiles: ProfileService
) -> None:
    me = await member(profile_settings, display_name="Ana")
    avatar = (
        await api.put(
            "/me/avatar", content=jpeg_with_gps(), headers={**me.headers, "content-type": "image/jpeg"}
        )
    ).json()["avatar"]
    await profiles.erase(me.id)
    for image in avatar:
        assert (await api.get(image["url"])).status_code == 404
    page = (await api.get(f"/users/{me.handle}")).json()
    assert (page["display_name"], page["avatar"]) == (None, None)
    connection = await asyncpg.connect(profile_settings.identity_database_url)
    try:
        assert await connection.fetchval("SELECT count(*) FROM profiles WHERE account = $1", me.id) == 0
    finally:
        await connection.close()
    await profiles.erase(me.id)  # twice: nothing left to do, no error


async def test_deleting_the_account_row_deletes_the_profile(profile_settings: Settings) -> None:
    me = await member(profile_settings, display_name="Ana")
    connection = await asyncpg.connect(profile_settings.identity_database_url)
    try:
        await connection.execute("DELETE FROM accounts WHERE id = $1", me.id)
        assert await connection.fetchval("SELECT count(*) FROM profiles WHERE account = $1", me.id) == 0
    finally:
        await connection.close()


async def test_the_bio_is_stored_sealed_and_reads_as_none_once_the_key_is_shredded(
    api: Client, profile_settings: Settings, profiles: ProfileService
) -> None:
    me, other = await member(profile_settings), await member(profile_settings)
    bio = f"a bio only {me.handle} writes"
    changed = await api.patch("/me/profile", json={"display_name": "Ana", "bio": bio}, headers=me.headers)
    assert changed.json()["bio"] == bio
    assert (await api.get(f"/users/{me.handle}")).json()["bio"] == bio
    assert (await profiles.export(me.id))["bio"] == bio  # the owner's export has it in clear
    await api.patch("/me/profile", json={"bio": "theirs"}, headers=other.headers)
    connection = await asyncpg.connect(profile_settings.identity_database_url)
    identity = Database("identity", profile_settings.identity_database_url)
    await identity.start(max_size=1)
    try:
        row = await connection.fetchrow("SELECT * FROM profiles WHERE account = $1", me.id)
        assert row is not None and "bio" not in dict(row)
        assert bio.encode() not in row["bio_sealed"] and row["display_name"] == "Ana"
        # Sealed for its own account: copied into another's row, it does not open.
        await connection.execute(
            "UPDATE profiles SET bio_sealed = $1 WHERE account = $2", row["bio_sealed"], other.id
        )
        with pytest.raises(Unreadable):
            await profiles.export(other.id)
        assert await shred_user_keys(me.id, identity)
    finally:
        await identity.stop()
        await connection.close()
    exported = await profiles.export(me.id)  # the row is still there, its bio unreadable
    assert (exported["display_name"], exported["bio"]) == ("Ana", None)
    refused = await api.patch("/me/profile", json={"bio": "again"}, headers=me.headers)
    assert refused.status_code == 404 and refused.json()["error"] == "user_not_found"

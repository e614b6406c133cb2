"""Identity migration m0004: profile bios stored in clear before it come out sealed under their
account's data key and still read; a bio whose account's key was shredded is dropped; without
the master key it refuses rather than half-convert."""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from piccolo.querystring import QueryString

from app.identity.crypto import Keyring, new_master_key
from app.identity.profiles import ProfileStore
from app.identity.store import seal_account
from core.db import Database
from core.settings import Settings
from migrations import runner
from server.cli import _migration_context
from tests.services import DatabaseFactory


async def before_sealing(url: str) -> Database:
    """An identity database migrated up to m0004 (not included), as deployments had it."""
    db = Database("identity", url)
    for module in runner.known("identity"):
        name = module.__name__.rsplit(".", 1)[-1]
        if name >= "m0004":
            break
        for statement in module.STATEMENTS:
            await db.engine.run_ddl(statement)
        if hasattr(module, "run"):
            await module.run(db.engine, {})  # nothing to convert in an empty database
        await db.engine.run_ddl(
            "CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz"
            " NOT NULL DEFAULT now())"
        )
        await db.engine.run_querystring(QueryString("INSERT INTO schema_migrations (name) VALUES ({})", name))
    return db


async def account(db: Database, keyring: Keyring, *, keep_key: bool = True) -> uuid.UUID:
    """A sealed account as registration writes it; without its data key when it was shredded."""
    account_id = uuid.uuid4()
    sealed = seal_account(keyring, account_id, f"{account_id.hex}@example.com", "x", None)
    await db.fetch(
        "INSERT INTO accounts (id, email_hash, email_sealed, password_hash_sealed) VALUES ({}, {}, {}, {})",
        account_id,
        None if not keep_key else sealed["email_hash"],
        sealed["email_sealed"],
        sealed["password_hash_sealed"],
    )
    if keep_key:
        await db.fetch(
            "INSERT INTO account_keys (account, master_key_id, wrapped_key) VALUES ({}, {}, {})",
            account_id,
            sealed["master_key_id"],
            sealed["wrapped_key"],
        )
    return account_id


async def test_plaintext_bios_are_sealed_and_still_read(databases: DatabaseFactory) -> None:
    url = await databases.create_empty("identity")
    db = await before_sealing(url)
    master = new_master_key()
    keyring = Keyring.from_settings(master)
    ada, grace, shredded = (
        await account(db, keyring),
        await account(db, keyring),
        await account(db, keyring, keep_key=False),
    )
    bios = {ada: "Ada writes programs", shredded: "left behind by an erasure cut short"}
    for person, name in ((ada, "Ada"), (grace, "Grace"), (shredded, "Gone")):
        await db.fetch(
            "INSERT INTO profiles (account, display_name, bio) VALUES ({}, {}, {})",
            person,
            name,
            bios.get(person),
        )

    with pytest.raises(runner.NotMigrated, match="MYDRTV_PRIVACY_MASTER_KEY"):
        await runner.migrate(db.engine, "identity")
    assert await runner.pending(db.engine, "identity") == ["m0004_sealed_profiles"]  # rolled back whole
    assert len(await db.fetch("SELECT bio FROM profiles WHERE bio IS NOT NULL")) == 2

    settings = Settings(identity_database_url=url, privacy_master_key=master)
    assert await runner.migrate(db.engine, "identity", _migration_context(settings)) == [
        "m0004_sealed_profiles"
    ]

    connection = await asyncpg.connect(url)
    try:
        columns = {
            r["column_name"]
            for r in await connection.fetch(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'profiles'"
            )
        }
        assert "bio" not in columns and "bio_sealed" in columns
        dump = b"".join(
            bytes(value) if isinstance(value, bytes) else str(value).encode()
            for row in await connection.fetch("SELECT * FROM profiles")
            for value in row.values()
        )
        for bio in bios.values():
            assert bio.encode() not in dump
        assert (
            await connection.fetchval("SELECT bio_sealed FROM profiles WHERE account = $1", shredded) is None
        )
    finally:
        await connection.close()

    store = ProfileStore(db, keyring)
    opened = {person: await store.get(person) for person in (ada, grace, shredded)}
    assert {person: (r.display_name, r.bio) for person, r in opened.items() if r} == {
        ada: ("Ada", "Ada writes programs"),
        grace: ("Grace", None),
        shredded: ("Gone", None),
    }
    await db.stop()

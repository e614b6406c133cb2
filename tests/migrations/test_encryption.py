"""Identity migration m0003: accounts stored in plaintext before it come out sealed, and still
sign in; without the master key it refuses rather than half-convert."""

from __future__ import annotations

import uuid
from datetime import date

import asyncpg
import msgspec
import pytest
from piccolo.querystring import QueryString

from app.identity.crypto import Keyring, new_master_key
from app.identity.store import IdentityStore
from app.identity.tables import TABLES
from core.db import Database
from core.settings import Settings
from migrations import runner
from server.cli import _migration_context
from tests.services import DatabaseFactory

PEOPLE = [
    (uuid.uuid4(), "ada@example.com", "$argon2id$v=19$m=65536,t=3,p=4$ada", date(1815, 12, 10)),
    (uuid.uuid4(), "grace@example.com", "$argon2id$v=19$m=65536,t=3,p=4$grace", None),
]


async def before_encryption(url: str) -> Database:
    """An identity database migrated up to m0003 (not included), as deployments had it."""
    db = Database("identity", url)
    for module in runner.known("identity"):
        name = module.__name__.rsplit(".", 1)[-1]
        if name >= "m0003":
            break
        for statement in module.STATEMENTS:
            await db.engine.run_ddl(statement)
        await db.engine.run_ddl(
            "CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz"
            " NOT NULL DEFAULT now())"
        )
        await db.engine.run_querystring(QueryString("INSERT INTO schema_migrations (name) VALUES ({})", name))
    return db


async def test_plaintext_accounts_are_sealed_and_still_found(databases: DatabaseFactory) -> None:
    url = await databases.create_empty("identity")
    db = await before_encryption(url)
    for account, email, password_hash, born in PEOPLE:
        await db.engine.run_querystring(
            QueryString(
                "INSERT INTO accounts (id, email, password_hash, birth_date) VALUES ({}, {}, {}, {})",
                account,
                email,
                password_hash,
                born,
            )
        )
        await db.engine.run_querystring(
            QueryString(
                "INSERT INTO consents (account, purpose, granted) VALUES ({}, 'analytics', true)", account
            )
        )

    with pytest.raises(runner.NotMigrated, match="MYDRTV_PRIVACY_MASTER_KEY"):
        await runner.migrate(db.engine, "identity")
    assert "m0003_encryption" in await runner.pending(db.engine, "identity")  # rolled back whole

    master = new_master_key()
    settings = Settings(identity_database_url=url, privacy_master_key=master)
    applied = await runner.migrate(db.engine, "identity", _migration_context(settings))
    assert "m0003_encryption" in applied

    connection = await asyncpg.connect(url)
    try:
        columns = {
            r["column_name"]
            for r in await connection.fetch(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'accounts'"
            )
        }
        assert not columns & {"email", "password_hash", "birth_date"}
        dump = " ".join(str(dict(r)) for r in await connection.fetch("SELECT * FROM accounts"))
        for _, email, password_hash, _ in PEOPLE:
            assert email not in dump and password_hash not in dump
        assert await connection.fetchval("SELECT count(*) FROM account_keys") == len(PEOPLE)
        assert await connection.fetchval("SELECT count(*) FROM consents WHERE policy_version IS NULL") == 2
    finally:
        await connection.close()

    bound = Database("identity", url, TABLES)
    await bound.start(max_size=1)
    try:
        store = IdentityStore(Keyring.from_settings(master))
        for account, email, password_hash, born in PEOPLE:
            found = await store.by_email(email)
            assert found is not None
            assert msgspec.structs.astuple(found)[:4] == (account, email, password_hash, born)
    finally:
        await bound.stop()
        await db.stop()


async def test_an_empty_database_needs_no_key(databases: DatabaseFactory) -> None:
    db = Database("identity", await databases.create_empty("identity"))
    assert "m0003_encryption" in await runner.migrate(db.engine, "identity")

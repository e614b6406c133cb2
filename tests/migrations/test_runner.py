from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest

from core.db import Database
from core.settings import Settings
from migrations import runner
from tests.services import DatabaseFactory, free_port


@pytest.mark.parametrize("database", runner.DATABASES)
async def test_migrate_applies_once(databases: DatabaseFactory, database: str) -> None:
    db = Database(database, await databases.create_empty(database))
    expected = [m.__name__.rsplit(".", 1)[-1] for m in runner.known(database)]
    assert await runner.pending(db.engine, database) == expected
    with pytest.raises(runner.NotMigrated, match="mydrtv migrate"):
        await runner.check(db.engine, database, db.url)

    assert await runner.migrate(db.engine, database) == expected
    assert await runner.migrate(db.engine, database) == []
    assert await runner.pending(db.engine, database) == []
    await runner.check(db.engine, database, db.url)


async def test_the_server_refuses_an_unmigrated_database(
    databases: DatabaseFactory, settings: Settings
) -> None:
    env = {
        **os.environ,
        "MYDRTV_DATABASE_URL": settings.database_url,
        "MYDRTV_IDENTITY_DATABASE_URL": await databases.create_empty("identity"),
        "MYDRTV_JWT_SECRET": settings.jwt_secret,
        "MYDRTV_PRIVACY_MASTER_KEY": settings.privacy_master_key,
        "MYDRTV_PORT": str(free_port()),
    }
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server.cli", "serve", env=env, stderr=asyncio.subprocess.PIPE
    )
    _, stderr = await asyncio.wait_for(server.communicate(), 60)
    assert server.returncode != 0
    assert "the identity database" in stderr.decode()
    assert "is not migrated" in stderr.decode()
    assert "run `mydrtv migrate`" in stderr.decode()


def test_the_server_names_a_missing_setting() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MYDRTV_")}
    result = subprocess.run(
        [sys.executable, "-m", "server.cli", "serve"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "MYDRTV_DATABASE_URL" in result.stderr


def test_redact_hides_passwords() -> None:
    assert runner._redact("postgresql://u:secret@h:5432/db") == "postgresql://u@h:5432/db"
    assert runner._redact("postgresql://u@h/db") == "postgresql://u@h/db"

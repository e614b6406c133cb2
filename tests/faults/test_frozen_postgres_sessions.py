"""A long-lived PostgreSQL session of every process, against a frozen PostgreSQL: the role cache's
listener (app/auth/principals.py). It may not wait on a hung server for longer than its bound
(asyncpg's own connect timeout is 60 s), and must be back once the server thaws: a role change
after the thaw reaches the cache.

The PostgreSQL is the test's own: freezing it (SIGSTOP on every process) touches no other test.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
import msgspec
import pytest

from app.auth.principals import Principals
from app.auth.tokens import AccessTokens
from app.db import Database
from app.embedded.postgres import EmbeddedPostgres
from app.settings import Settings
from tests.pg_faults import frozen, migrated_settings, own_postgres
from tests.users import person

BOUND = 1.0  # the database timeout here


@pytest.fixture(scope="module")
def postgres() -> Iterator[EmbeddedPostgres]:
    with own_postgres() as server:
        yield server


@pytest.fixture(scope="module")
async def pg_settings(postgres: EmbeddedPostgres) -> Settings:
    return msgspec.structs.replace(await migrated_settings(postgres), database_timeout_seconds=BOUND)


@pytest.fixture
async def database(pg_settings: Settings) -> AsyncIterator[Database]:
    db = Database("main", pg_settings.database_url, timeout=BOUND)
    await db.start()
    yield db
    await db.stop()


async def set_role(settings: Settings, user: uuid.UUID, role: str) -> None:
    connection = await asyncpg.connect(settings.database_url)
    try:
        await connection.execute("UPDATE users SET role = $2 WHERE id = $1", user, role)
    finally:
        await connection.close()


async def a_change_is_heard(settings: Settings, user: uuid.UUID, heard: asyncio.Queue[uuid.UUID]) -> str:
    """Change ``user``'s role until the watcher hears of it (the listener may still be connecting:
    a change made before it listens is not heard), within 10 s; returns the role set last."""
    deadline = time.monotonic() + 10
    for role in itertools.cycle(("moderator", "viewer")):
        assert time.monotonic() < deadline, "no role change reached the cache"
        await set_role(settings, user, role)  # the trigger notifies real changes only
        with contextlib.suppress(TimeoutError):
            assert await asyncio.wait_for(heard.get(), 0.2) == user
            return role
    raise AssertionError("unreachable")


async def until(condition: object, within: float, what: str) -> float:
    """Wait for ``condition()`` (checked every 20 ms: a log record has nothing to await)."""
    started = time.monotonic()
    while not condition():  # type: ignore[operator]
        assert time.monotonic() - started < within, f"{what}: not within {within} s"
        await asyncio.sleep(0.02)
    return time.monotonic() - started


async def test_the_role_cache_listener_notices_a_frozen_postgres_and_hears_changes_after_the_thaw(
    pg_settings: Settings, postgres: EmbeddedPostgres, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """Before: the listener sat on its silent connection for as long as the server was frozen (a
    partition looks the same, and then notifications are lost for good), and a reconnect to the
    frozen server waited asyncpg's 60 s."""
    caplog.set_level(logging.INFO, logger="mydrtv.principals")
    tokens = AccessTokens(pg_settings.jwt_secret, pg_settings.jwt_issuer, 900)
    principals = Principals(database, tokens)
    heard: asyncio.Queue[uuid.UUID] = asyncio.Queue()
    principals.watch(heard.put_nowait)
    listener = asyncio.create_task(principals.run())
    try:
        ada = await person(pg_settings)
        principal = tokens.verify(ada.token)
        # Listening: a role change reaches the watcher.
        role = await a_change_is_heard(pg_settings, ada.id, heard)
        assert (await principals.current(principal)).role == role

        def warnings(text: str) -> list[logging.LogRecord]:
            return [r for r in caplog.records if r.levelno >= logging.WARNING and text in r.getMessage()]

        async with frozen(postgres, at_most=15 * BOUND):
            lost = await until(lambda: warnings("lost the user-change listener"), 3 * BOUND, "loss noticed")
            # Reconnecting to the frozen server gives up within the bound, then tries again.
            await until(lambda: warnings("cannot listen for user changes"), 3 * BOUND, "connect bounded")
        print(f"\nrole-cache listener: a frozen PostgreSQL noticed after {lost:.2f} s")
        for record in warnings("user-change") + warnings("user changes"):
            assert not record.exc_info, record.getMessage()  # one line, no traceback

        # Thawed: the listener reconnects, and a role change reaches the cache again.
        await set_role(pg_settings, ada.id, "admin")
        assert (await principals.current(principal)).role == "admin"  # the cache is off meanwhile
        role = await a_change_is_heard(pg_settings, ada.id, heard)
        assert (await principals.current(principal)).role == role
    finally:
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listener

"""The pool gives connections back without asyncpg's session reset (core/db.py): what that
reset did and still matters must still happen, and nothing a caller did may reach the next one."""

from __future__ import annotations

import asyncio

from core.db import Database
from core.settings import Settings


async def test_a_connection_given_back_mid_transaction_is_rolled_back(settings: Settings) -> None:
    db = Database("main", settings.database_url)
    await db.start(max_size=1)  # one connection: the next caller gets the same one
    loop = asyncio.get_running_loop()
    complaints: list[str] = []
    loop.set_exception_handler(lambda _, context: complaints.append(str(context.get("message"))))
    try:
        assert db.engine.pool is not None
        async with db.engine.pool.acquire() as connection:
            await connection.execute("BEGIN")
            await connection.execute("CREATE TEMP TABLE left_open (id int)")
            backend = await connection.fetchval("SELECT pg_backend_pid()")
        async with db.engine.pool.acquire() as connection:
            assert await connection.fetchval("SELECT pg_backend_pid()") == backend
            assert not connection.is_in_transaction()
            # The table was created in the rolled-back transaction: it never existed.
            assert await connection.fetchval("SELECT to_regclass('pg_temp.left_open')") is None
        assert await db.fetch("SELECT 1 AS one") == [{"one": 1}]
        assert any("active transaction" in c for c in complaints)
    finally:
        loop.set_exception_handler(None)
        await db.stop()

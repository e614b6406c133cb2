"""A PostgreSQL of a test's own, and the faults to inflict on it: stopped, killed, frozen.

A server of its own, so stopping or freezing it touches no other test; the helpers restart or
resume it afterwards, so the code under test is seen coming back without a restart of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import tempfile
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import asyncpg
import psutil

from app.identity.crypto import new_master_key
from core.db import Database
from core.settings import Settings
from migrations import runner
from server.embedded.postgres import EmbeddedPostgres
from tests.services import free_port, with_database


@contextmanager
def own_postgres() -> Iterator[EmbeddedPostgres]:
    # Not under pytest's own directory: a pytest starting elsewhere makes it private to root again,
    # and the server (another user when we are root) could not restart there.
    with tempfile.TemporaryDirectory(prefix="mydrtv-outage-") as root:
        server = EmbeddedPostgres(Path(root), free_port())
        server.start()
        try:
            yield server
        finally:
            server.stop()


async def migrated_settings(postgres: EmbeddedPostgres) -> Settings:
    """Settings on ``postgres`` (its databases created and migrated), with the in-process bus."""
    urls = {}
    admin = await asyncpg.connect(postgres.url())
    try:
        for database in runner.DATABASES:
            await admin.execute(f'CREATE DATABASE "{database}"')
            urls[database] = with_database(postgres.url(), database)
    finally:
        await admin.close()
    for database, url in urls.items():
        await runner.migrate(Database(database, url).engine, database)
    return Settings(
        database_url=urls["main"],
        identity_database_url=urls["identity"],
        jwt_secret="test-secret-" + uuid.uuid4().hex,
        privacy_master_key=new_master_key(),
    )


@asynccontextmanager
async def down(postgres: EmbeddedPostgres, sig: signal.Signals) -> AsyncIterator[None]:
    """PostgreSQL stopped by ``sig`` (and every backend gone) inside; started again after."""
    assert postgres.process is not None
    postmaster = psutil.Process(postgres.process.pid)
    backends = postmaster.children()
    try:
        postmaster.send_signal(sig)
        await asyncio.to_thread(postgres.process.wait, 30)
        # After a kill -9 the backends outlive the postmaster for a moment; the outage begins
        # when the last of them has noticed and exited.
        await asyncio.to_thread(psutil.wait_procs, backends, 30)
        yield
    finally:
        postgres.process = None
        await asyncio.to_thread(postgres.start)


@asynccontextmanager
async def frozen(postgres: EmbeddedPostgres, at_most: float) -> AsyncIterator[None]:
    """PostgreSQL hung, not gone: its postmaster and every backend stopped (SIGSTOP) inside, its
    sockets open and silent; resumed (SIGCONT) after, or after ``at_most`` seconds at the latest,
    so that a request hung on it (the defect under test) ends and the test fails, not hangs."""
    assert postgres.process is not None
    postmaster = psutil.Process(postgres.process.pid)
    processes = [postmaster, *postmaster.children()]

    def resume() -> None:
        for process in processes:
            with contextlib.suppress(psutil.NoSuchProcess):  # a backend that ended since
                process.resume()

    # A thread of its own, so the deadline holds even if the hang blocks this event loop.
    deadline = threading.Timer(at_most, resume)
    deadline.daemon = True
    deadline.start()
    try:
        for process in processes:
            with contextlib.suppress(psutil.NoSuchProcess):  # a backend whose session just ended
                process.suspend()
        yield
    finally:
        deadline.cancel()
        resume()

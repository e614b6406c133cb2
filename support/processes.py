"""`mydrtv serve` in child processes, for tests that need real sockets and several instances."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import msgspec

from app.settings import Settings
from support.services import free_port


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that gives a ``mydrtv`` child process exactly ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MYDRTV_")}
    for name, value in msgspec.structs.asdict(settings).items():
        env[f"MYDRTV_{name.upper()}"] = str(value)
    return env


class ServerProcess:
    def __init__(self, settings: Settings) -> None:
        self.port = free_port()
        self.settings = msgspec.structs.replace(settings, port=self.port)
        self.lines: list[str] = []
        self.process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _env(self) -> dict[str, str]:
        return settings_env(self.settings)

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "app.cli", "serve", env=self._env(), stderr=asyncio.subprocess.PIPE
        )
        started = asyncio.get_running_loop().create_future()
        self._reader = asyncio.create_task(self._read(started))
        await asyncio.wait_for(started, 60)

    async def _read(self, started: asyncio.Future[None]) -> None:
        assert self.process is not None and self.process.stderr is not None
        async for raw in self.process.stderr:
            line = raw.decode(errors="replace")
            self.lines.append(line)
            if not started.done() and str(_message(line)).startswith("Uvicorn running on"):
                started.set_result(None)
        if not started.done():
            started.set_exception(RuntimeError("server exited:\n" + "".join(self.lines[-30:])))

    async def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(sig)
        code = await asyncio.wait_for(self.process.wait(), 30)
        if self._reader is not None:
            await asyncio.wait_for(self._reader, 10)
        return code


def _message(line: str) -> Any:
    try:
        return json.loads(line).get("message")
    except ValueError:
        return None


@asynccontextmanager
async def instances(settings: Settings, count: int = 2) -> AsyncIterator[list[ServerProcess]]:
    """``count`` servers sharing ``settings`` (one database, one Redis), started together."""
    servers = [ServerProcess(settings) for _ in range(count)]
    await asyncio.gather(*(server.start() for server in servers))
    try:
        yield servers
    finally:
        await asyncio.gather(*(server.stop() for server in servers))


@asynccontextmanager
async def http_clients(servers: list[ServerProcess]) -> AsyncIterator[list[httpx.AsyncClient]]:
    """One REST client per server, in the same order."""
    clients = [httpx.AsyncClient(base_url=server.http_url, timeout=30) for server in servers]
    try:
        yield clients
    finally:
        for client in clients:
            await client.aclose()

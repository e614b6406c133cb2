"""Several roles on one machine behind a real load balancer: HAProxy (support/haproxy.py) in
front of ``gateways`` websocket gateways and one API (each a ``mydrtv serve``), and one
``mydrtv worker``, all on loopback and sharing one PostgreSQL and one Redis.

``python -m support.cluster [--balancers N]`` (``make cluster``) runs it on an embedded PostgreSQL
and Redis until Ctrl-C; tests and benchmarks use ``Cluster.running`` on servers of their own.
``balancers`` > 1 runs that many HAProxy processes on the one port, for more sessions than one
process's descriptors allow (``bench.fleet30k``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec

from core.settings import Settings
from support.haproxy import config, haproxies, haproxy, haproxy_binary
from support.processes import ROOT, ServerProcess, settings_env
from support.services import free_port


class WorkerProcess:
    """``mydrtv worker``: transcoding jobs, off the API."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.lines: list[str] = []
        self.process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "server.cli", "worker",
            env=settings_env(self.settings), cwd=ROOT, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        started = asyncio.get_running_loop().create_future()
        self._reader = asyncio.create_task(self._read(started))
        await asyncio.wait_for(started, 60)

    async def _read(self, started: asyncio.Future[None]) -> None:
        assert self.process is not None and self.process.stderr is not None
        async for raw in self.process.stderr:
            line = raw.decode(errors="replace")
            self.lines.append(line)
            if not started.done() and "transcode worker started" in line:
                started.set_result(None)
        if not started.done():
            started.set_exception(RuntimeError("worker exited:\n" + "".join(self.lines[-30:])))

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(self.process.wait(), 30)
        if self._reader is not None:
            await asyncio.wait_for(self._reader, 10)


class Cluster:
    def __init__(self, settings: Settings, gateways: int = 3) -> None:
        # The worker transcodes; the serving roles do not.
        serving = msgspec.structs.replace(settings, media_worker=False)
        self.gateways = [ServerProcess(serving) for _ in range(gateways)]
        self.api = ServerProcess(serving)
        self.worker = WorkerProcess(settings)
        self.port = free_port()
        self.haproxy_pids: list[int] = []

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    @classmethod
    @contextlib.asynccontextmanager
    async def running(
        cls,
        settings: Settings,
        prefix: Path,
        gateways: int = 3,
        balancers: int = 1,
        maxconn: int = 9000,
        check_timeout: str = "2s",
    ) -> AsyncIterator[Cluster]:
        """The cluster, once HAProxy finds every server ready; ``balancers`` HAProxy processes
        on the one port, each taking ``maxconn`` sessions at most (``support.haproxy.config``
        for ``check_timeout``)."""
        binary = haproxy_binary()
        if binary is None:
            raise RuntimeError("haproxy is missing: apt-get install haproxy (make cluster does)")
        cluster = cls(settings, gateways)
        servers = [*cluster.gateways, cluster.api]
        started: list[ServerProcess] = []
        try:
            for server in servers:  # one after the other: the first leads the outbox relay
                await server.start()
                started.append(server)
            await cluster.worker.start()
            ports = [g.port for g in cluster.gateways]
            if balancers == 1:
                api = [cluster.api.port]
                conf = config(cluster.port, ports, api, prefix, maxconn=maxconn, check_timeout=check_timeout)
                async with haproxy(binary, conf, prefix, cluster.http_url + "/health/ready") as pid:
                    cluster.haproxy_pids = [pid]
                    yield cluster
            else:
                lbs = haproxies(
                    binary, cluster.port, ports, [cluster.api.port], prefix, balancers, maxconn, check_timeout
                )
                async with lbs as pids:
                    cluster.haproxy_pids = pids
                    yield cluster
        finally:
            await cluster.worker.stop()
            await asyncio.gather(
                *(s.stop() for s in started if s.process and s.process.returncode is None),
                return_exceptions=True,
            )


async def _main() -> None:
    from server.cli import migrate

    parser = argparse.ArgumentParser(prog="python -m support.cluster")
    parser.add_argument(
        "--balancers", type=int, default=1, help="HAProxy processes on the one port (each ~9000 sessions)"
    )
    args = parser.parse_args()
    from server.embedded.stack import EmbeddedStack

    base = Settings.from_env()
    stack = EmbeddedStack(base)
    stack.start()
    try:
        settings = stack.configure(base)
        await stack.create_databases()
        await migrate(settings)
        with tempfile.TemporaryDirectory(prefix="mydrtv-haproxy-") as prefix:
            async with Cluster.running(settings, Path(prefix), balancers=args.balancers) as cluster:
                print(f"mydrtv cluster: {cluster.http_url} (websockets on {cluster.ws_url})", flush=True)
                for server in cluster.gateways:
                    print(f"  gateway pid {server.process.pid if server.process else '-'} on {server.port}")
                print(
                    f"  api on {cluster.api.port}; haproxy pids {cluster.haproxy_pids}; Ctrl-C stops",
                    flush=True,
                )
                stop = asyncio.Event()
                loop = asyncio.get_running_loop()
                for sig in (signal.SIGINT, signal.SIGTERM):
                    loop.add_signal_handler(sig, stop.set)
                await stop.wait()
    finally:
        stack.stop()


if __name__ == "__main__":
    asyncio.run(_main())

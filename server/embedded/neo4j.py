"""Neo4j Community, embedded in a small Java launcher (``graph/neo4j-server/``), with Bolt on loopback.

Maven resolves the server's jars from the pinned pom into ``build/maven-repository`` (inside the
checkout, so nothing depends on a home directory) and puts the launcher's classes and ``lib/``
into ``build/neo4j-server``; the build runs when that is missing or older than the pom or the
Java source. The server runs as our child like PostgreSQL and Redis, and also watches its stdin,
a pipe we hold: when we exit, however we exit, it shuts down.

``python -m server.embedded.neo4j build`` builds it (``make test`` does), or says why it cannot.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from server.embedded import children
from server.embedded.postgres import _port_taken

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / "graph" / "neo4j-server"
BUILD = ROOT / "build" / "neo4j-server"
MAVEN_REPOSITORY = ROOT / "build" / "maven-repository"
_BUILT = BUILD / ".built"  # written after a build succeeded
READY = b"mydrtv-neo4j ready"  # what the launcher prints once the database answers
LAUNCHER = "mydrtv.neo4j.Launcher"

log = logging.getLogger("mydrtv")


def _sources() -> list[Path]:
    return [PROJECT / "pom.xml", *sorted((PROJECT / "src").rglob("*.java"))]


def built() -> bool:
    """Whether the build is there and newer than the pom and every Java source."""
    if not _BUILT.exists():
        return False
    done = _BUILT.stat().st_mtime
    return all(source.stat().st_mtime <= done for source in _sources())


def unavailable() -> str | None:
    """Why Neo4j cannot run here (no Java, or no build and no Maven to make one); None when it can."""
    if shutil.which("java") is None:
        return "java (17 or later) is not installed"
    if not built() and shutil.which("mvn") is None:
        return "mvn (Maven) is not installed, and graph/neo4j-server has not been built"
    return None


def build() -> None:
    """Build the launcher when it is missing or stale; one build at a time per checkout."""
    if built():
        return
    reason = unavailable()
    if reason is not None:
        raise RuntimeError(f"cannot build the Neo4j server: {reason}")
    BUILD.mkdir(parents=True, exist_ok=True)
    with open(BUILD.parent / "neo4j-server.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if built():  # another process built it while we waited
            return
        log.info("building the Neo4j server with Maven (the first time: ~120 MB of jars, ~2 minutes)")
        argv = [
            "mvn", "-q", "-B",
            "-f", str(PROJECT / "pom.xml"),
            f"-Dmaven.repo.local={MAVEN_REPOSITORY}",
            "package",
        ]  # fmt: skip
        result = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            output = (result.stdout + result.stderr)[-3000:]
            raise RuntimeError(f"building the Neo4j server failed ({' '.join(argv)}):\n{output}")
        _BUILT.touch()


class EmbeddedNeo4j:
    """One Neo4j server: its files in ``data_dir/neo4j``, Bolt on ``127.0.0.1:port``, no auth."""

    def __init__(
        self,
        data_dir: Path,
        port: int,
        *,
        heap_mib: int = 512,
        page_cache_mib: int = 64,
        quick_start: bool = False,
    ) -> None:
        """``quick_start``: the JVM's first compiler only and the serial collector, which take about
        a third less CPU to reach ready (and less memory), for tests and development; queries at
        full speed (benchmarks) want both compilers."""
        self.home = (data_dir / "neo4j").resolve()
        self.log_path = data_dir.resolve() / "neo4j.log"
        self.pidfile = self.home / "launcher.pid"
        self.port = port
        self.heap_mib = heap_mib
        self.page_cache_mib = page_cache_mib
        self.quick_start = quick_start
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"bolt://127.0.0.1:{self.port}"

    def start(self, timeout: float = 180.0) -> None:
        build()
        self.home.mkdir(parents=True, exist_ok=True)
        self._stop_stale()
        java = shutil.which("java")
        assert java is not None  # build() checked
        argv = [
            java,
            f"-Xms{self.heap_mib}m", f"-Xmx{self.heap_mib}m",
            *(["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"] if self.quick_start else []),
            "--add-opens=java.base/java.nio=ALL-UNNAMED",
            "-cp", f"{BUILD / 'classes'}{os.pathsep}{BUILD / 'lib' / '*'}",
            LAUNCHER, str(self.home), str(self.port), str(self.page_cache_mib),
        ]  # fmt: skip
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_path.touch()
        start = self.log_path.stat().st_size  # the log is appended to: only this run's lines count
        self.process = children.spawn(
            argv, log_path=self.log_path, death_signal=signal.SIGTERM, stdin=subprocess.PIPE
        )
        self.pidfile.write_text(str(self.process.pid))

        def ready() -> bool:
            with open(self.log_path, "rb") as log:
                log.seek(start)
                return READY in log.read()

        children.wait_until(ready, self.process, "Neo4j", self.log_path, timeout=timeout)

    def stop(self) -> None:
        """Stop cleanly (about a second; the store needs no recovery on the next start)."""
        if self.process is None:
            return
        children.stop(self.process, signal.SIGTERM, timeout=60)
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process = None
        with contextlib.suppress(FileNotFoundError):
            self.pidfile.unlink()

    def _stop_stale(self) -> None:
        if self.pidfile.exists():
            pid = int(self.pidfile.read_text().strip() or 0)
            if pid:
                children.stop_stale(pid, LAUNCHER, signal.SIGTERM, timeout=60)
        if _port_taken(self.port):
            raise RuntimeError(
                f"port {self.port} is taken by another program; set MYDRTV_EMBEDDED_NEO4J_PORT to a free port"
            )


def main(argv: list[str]) -> int:
    if argv != ["build"]:
        print("usage: python -m server.embedded.neo4j build", file=sys.stderr)
        return 2
    reason = unavailable()
    if reason is not None:
        print(f"Neo4j server not built: {reason}; tests on Neo4j will be skipped.")
        return 0
    if not built():
        print("building the Neo4j server (graph/neo4j-server) into build/neo4j-server", flush=True)
        build()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

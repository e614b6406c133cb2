"""Child server processes that never outlive their parent, and clean-up of stale ones."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import psutil

_PR_SET_PDEATHSIG = 1


def _parent_death_signal(sig: int, parent: int) -> Callable[[], None]:
    def preexec() -> None:
        # Runs in the child after the fork (and after any setuid, which would clear it).
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, sig)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os.kill(os.getpid(), sig)

    return preexec


def spawn(
    argv: Sequence[str],
    *,
    log_path: Path,
    death_signal: int = signal.SIGTERM,
    user: str | None = None,
    stdin: int = subprocess.DEVNULL,
) -> subprocess.Popen[bytes]:
    """Start a server in the foreground; its output is appended to ``log_path``. With
    ``stdin=subprocess.PIPE`` we hold the pipe's other end: it closes when we exit, however."""
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            list(argv),
            stdin=stdin,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            user=user,
            preexec_fn=_parent_death_signal(death_signal, os.getpid()),
        )


def stop(process: subprocess.Popen[bytes], sig: int, timeout: float = 30.0) -> None:
    """Ask a child to stop with ``sig``; kill it if it has not stopped within ``timeout``."""
    if process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def stop_stale(pid: int, name: str, sig: int, timeout: float = 30.0) -> bool:
    """Stop a server left running by a killed earlier run; True when there was one."""
    try:
        process = psutil.Process(pid)
        if name not in process.name() and not any(name in part for part in process.cmdline()):
            return False  # the pid was reused by an unrelated process
        process.send_signal(sig)
        process.wait(timeout)
    except psutil.TimeoutExpired:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    except psutil.NoSuchProcess:
        return False
    return True


def wait_until(
    ready: Callable[[], bool],
    process: subprocess.Popen[bytes],
    what: str,
    log_path: Path,
    timeout: float = 60.0,
) -> None:
    """Wait for a server we just started to accept connections, or fail with its log's tail."""
    deadline = time.monotonic() + timeout
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            tail = log_path.read_text(errors="replace")[-2000:]
            state = "exited" if process.poll() is not None else "did not start in time"
            raise RuntimeError(f"{what} {state}; the end of {log_path}:\n{tail}")
        time.sleep(0.1)

"""A server under load: where to reach it, its processes (for their CPU time), and starting and
stopping it as a child process. Shared by the serving benchmark's two servers (ours and nginx) and
the load generators that measure them."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from pathlib import Path

import httpx
import msgspec
import psutil


class Target(msgspec.Struct):
    name: str
    base_url: str
    root_pid: int
    upstream_pid: int | None = None  # a server behind this one (nginx in front of ours): its CPU apart

    def upstream_cpu_seconds(self) -> float:
        if self.upstream_pid is None:
            return 0.0
        try:
            times = psutil.Process(self.upstream_pid).cpu_times()
        except psutil.NoSuchProcess:
            return 0.0
        return float(times.user + times.system)

    def pids(self) -> list[int]:
        """The server's processes: for nginx the master and its worker."""
        try:
            root = psutil.Process(self.root_pid)
            return [root.pid, *(child.pid for child in root.children(recursive=True))]
        except psutil.NoSuchProcess:
            return []

    def cpu_seconds(self) -> float:
        total = 0.0
        for pid in self.pids():
            with contextlib.suppress(psutil.NoSuchProcess):
                times = psutil.Process(pid).cpu_times()
                total += times.user + times.system
        return total


async def stop_process(process: asyncio.subprocess.Process, sig: int = signal.SIGTERM) -> None:
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(sig)
        try:
            await asyncio.wait_for(process.wait(), 30)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()


async def wait_until_serving(process: asyncio.subprocess.Process, url: str, log: Path) -> None:
    """Poll ``url`` until it answers 200; fail with the log's tail if the process exits first."""
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient(timeout=5) as http:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                break
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(url)).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    tail = "".join((await asyncio.to_thread(log.read_text, errors="replace")).splitlines(True)[-30:])
    raise RuntimeError(f"{url} is not served (exit code {process.returncode}):\n{tail}")

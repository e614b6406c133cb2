"""Tools from Debian's packages, installed with apt-get when missing (nginx and wrk for the
serving benchmark), and running a command with a bound on its time."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path


async def command(*argv: str, within: float = 300) -> tuple[int, str]:
    """Run ``argv``; its exit code and its output (stdout and stderr together)."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=env,
    )
    try:
        out, _ = await asyncio.wait_for(process.communicate(), within)
    except BaseException:
        if process.returncode is None:
            process.kill()
            await process.wait()
        raise
    return process.returncode or 0, out.decode(errors="replace")


def which(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/sbin:/bin")


async def ensure_tool(
    name: str, packages: Sequence[str], allow_install: bool, notes: list[str]
) -> str | None:
    """The path of ``name``, installed with apt-get from the first of ``packages`` that installs
    when it is missing; None (and a note saying why) when it cannot be had."""
    found = which(name)
    if found or not allow_install:
        if not found:
            notes.append(f"{name}: not installed and --no-install given")
        return found
    if os.geteuid() != 0 or not which("apt-get"):
        notes.append(f"{name}: not installed, and apt-get cannot be used here (not root or not Debian)")
        return None
    # The package's postinst may start nginx as a service where nothing stops it (no
    # policy-rc.d): if a service appears, it is stopped again below.
    service_pid = Path("/run/nginx.pid")
    had_service = await asyncio.to_thread(service_pid.exists)
    print(f"installing {name} with apt-get ...", file=sys.stderr, flush=True)
    tail = ""
    for attempt in range(2):
        for package in packages:
            code, output = await command("apt-get", "install", "-y", "-q", "--no-install-recommends", package)
            tail = output.strip().splitlines()[-1] if output.strip() else ""
            if code == 0 and which(name):
                notes.append(f"{name}: installed Debian package {package}")
                started_service = await asyncio.to_thread(service_pid.exists)
                if name == "nginx" and not had_service and started_service:
                    await command(which(name) or name, "-s", "quit", within=30)
                    notes.append("nginx: the package started a service; it was stopped")
                return which(name)
        if attempt == 0:
            await command("apt-get", "update", "-q")
    notes.append(f"{name}: apt-get install {' or '.join(packages)} failed: {tail}")
    return None

"""Running nginx from Debian's package as a child process, with a configuration of our own.

Tests and benchmarks put nginx in front of the server (X-Accel-Redirect) or beside it (the
reference for serving speed); both need the same wrapping: foreground, its own prefix for the pid,
logs and temporary files, and a root master whose worker may still read private directories.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

# nginx's defaults but for sendfile, the access log and keep-alive. Not Debian's ``tcp_nopush on``:
# on loopback it cost nginx about a third of its throughput and put 40 ms (delayed-ACK) stalls into
# its p99 of small range answers.
MAIN_CONF = """\
daemon off;
master_process on;
worker_processes 1;
{user}
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{
    worker_connections 4096;
}}
http {{
    access_log off;
    sendfile on;
    keepalive_timeout 75s;
    keepalive_requests 1000000;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
{http}
}}
"""


FRONT_CONF = Path(__file__).resolve().parents[1] / "deploy" / "nginx" / "mydrtv.conf"


def front_config(
    upstream_port: int, listen_port: int, media_root: Path, cache_dir: Path, secure_link_secret: str = ""
) -> str:
    """The shipped ``deploy/nginx/mydrtv.conf``, pointed at a server, a port and the root of a
    ``file://`` storage, with the servers' secure-link secret (none: secure links off)."""
    conf = FRONT_CONF.read_text()
    for old, new, count in (
        ("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream_port};", 1),
        ("listen 80;", f"listen 127.0.0.1:{listen_port};", 1),
        ("alias /var/lib/mydrtv/media/objects/;", f"alias {media_root}/objects/;", 1),
        # the auth_request location's and the secure-link location's
        ("alias /var/lib/mydrtv/media/objects/videos/", f"alias {media_root}/objects/videos/", 2),
        ('    default "";\n}', f'    default "{secure_link_secret}";\n}}', 1),
        ("/var/cache/nginx/mydrtv-authorize", str(cache_dir), 1),
    ):
        if conf.count(old) != count:
            raise ValueError(f"deploy/nginx/mydrtv.conf no longer has {old!r} {count} time(s)")
        conf = conf.replace(old, new)
    return conf


def nginx_binary() -> str | None:
    """Debian's nginx (``apt-get install nginx-light``), wherever PATH or sbin has it."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


@asynccontextmanager
async def nginx(binary: str, http: str, prefix: Path, ready_url: str) -> AsyncIterator[int]:
    """nginx in the foreground with ``http`` inside its http block; yields its master's pid once
    ``ready_url`` answers (any status), and stops it gracefully (SIGQUIT) on the way out."""
    await asyncio.to_thread(prefix.mkdir, parents=True, exist_ok=True)
    # A root master's worker runs as nobody, which may not enter private temporary directories.
    user = "user root;" if os.geteuid() == 0 else ""
    config = prefix / "nginx.conf"
    await asyncio.to_thread(config.write_text, MAIN_CONF.format(user=user, prefix=prefix, http=http))
    log = prefix / "error.log"
    process = await asyncio.create_subprocess_exec(
        binary, "-p", str(prefix), "-e", str(log), "-c", str(config),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        await _answering(process, ready_url, log)
        yield process.pid
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGQUIT)
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
                await process.wait()


async def _answering(process: asyncio.subprocess.Process, url: str, log: Path) -> None:
    async with httpx.AsyncClient(timeout=5) as http, asyncio.timeout(30):
        while process.returncode is None:
            try:
                await http.get(url)
                return
            except httpx.TransportError:
                await asyncio.sleep(0.05)  # another process's socket: nothing to await
    raise RuntimeError(f"nginx exited with {process.returncode}:\n{await asyncio.to_thread(_tail, log)}")


def _tail(log: Path) -> str:
    return log.read_text()[-2000:] if log.exists() else ""

"""HAProxy from Debian's package (``apt-get install haproxy``) as a child process, in front of
gateways and the API: websockets on ``/ws`` go to the gateways (least connections), the rest to
the API; every server is checked on ``/health/ready`` twice a second, and one that fails twice is
taken out (its sessions cut, so their clients reconnect to a live one at once).

One HAProxy process holds two descriptors per session, so the fd limit (20 000 here) caps it
near 9000 sessions: ``haproxies`` runs several on the same port (HAProxy sets SO_REUSEPORT on
Linux, and the kernel spreads new connections over them)."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from support.services import free_port

CONFIG = """\
global
    maxconn {maxconn}        # each session takes two descriptors; the fd limit here is 20 000
    pidfile {prefix}/haproxy.pid
    log stderr format raw daemon notice

defaults
    mode http
    log global
    option log-health-checks  # a server taken out or put back, and why, on stderr
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout tunnel 1h        # a websocket, once upgraded; the servers ping every 20 s
    timeout http-request 10s
    timeout check {check_timeout}  # a readiness probe asks every backend: allow for a loaded machine
    retries 3
    option redispatch 1      # a refused connection is retried on another server
    default-server inter 500ms fall 2 rise 2 on-marked-down shutdown-sessions
    # A refused connection takes its server out at once, before the checks notice: else leastconn
    # would send every retry to the dead server (it has the fewest sessions) and answer 503.
    default-server observe layer4 error-limit 1 on-error mark-down

frontend mydrtv
    bind 127.0.0.1:{port}{probe}
    acl websocket path /ws
    use_backend gateways if websocket
    default_backend api

backend gateways
    balance leastconn
    option httpchk GET /health/ready
    http-check expect status 200
{gateways}

backend api
    balance roundrobin
    option httpchk GET /health/ready
    http-check expect status 200
{api}
"""


def haproxy_binary() -> str | None:
    return shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/usr/local/sbin")


def config(
    port: int,
    gateways: list[int],
    api: list[int],
    prefix: Path,
    *,
    maxconn: int = 9000,
    probe_port: int | None = None,
    check_timeout: str = "2s",
) -> str:
    """The configuration of one HAProxy process; ``probe_port``: a second address of its own, so
    that its readiness can be asked of it alone when several processes share ``port``.
    ``check_timeout``: how long a server may take to answer its readiness check; two misses take
    it out and cut its sessions, so an overloaded gateway whose event loop lags longer than this
    loses all its clients at once."""

    def servers(name: str, ports: list[int]) -> str:
        return "\n".join(f"    server {name}{i} 127.0.0.1:{p} check" for i, p in enumerate(ports))

    probe = f"\n    bind 127.0.0.1:{probe_port}" if probe_port is not None else ""
    return CONFIG.format(
        port=port,
        prefix=prefix,
        maxconn=maxconn,
        probe=probe,
        check_timeout=check_timeout,
        gateways=servers("g", gateways),
        api=servers("api", api),
    )


@asynccontextmanager
async def haproxy(binary: str, conf: str, prefix: Path, ready_url: str) -> AsyncIterator[int]:
    """HAProxy in the foreground on ``conf``; yields its pid once ``ready_url`` answers 200 (every
    backend checked up), and stops it on the way out. Its log goes to ``prefix/haproxy.log``."""
    await asyncio.to_thread(prefix.mkdir, parents=True, exist_ok=True)
    path = prefix / "haproxy.cfg"
    await asyncio.to_thread(path.write_text, conf)
    process = await asyncio.create_subprocess_exec(
        binary, "-db", "-f", str(path),
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stderr is not None
    lines: list[str] = []
    reader = asyncio.create_task(_collect(process.stderr, lines, prefix / "haproxy.log"))
    try:
        try:
            async with httpx.AsyncClient(timeout=5) as http, asyncio.timeout(30):
                while process.returncode is None:
                    with contextlib.suppress(httpx.TransportError):
                        if (await http.get(ready_url)).status_code == 200:
                            break
                    await asyncio.sleep(0.1)  # another process's checks: nothing to await
        except TimeoutError:
            raise RuntimeError("haproxy: no backend came up:\n" + "".join(lines[-30:])) from None
        if process.returncode is not None:
            raise RuntimeError("haproxy exited:\n" + "".join(lines[-30:]))
        yield process.pid
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()
        await reader


@asynccontextmanager
async def haproxies(
    binary: str,
    port: int,
    gateways: list[int],
    api: list[int],
    prefix: Path,
    count: int,
    maxconn: int = 9000,
    check_timeout: str = "2s",
) -> AsyncIterator[list[int]]:
    """``count`` HAProxy processes sharing ``port`` (SO_REUSEPORT), each with ``maxconn`` sessions
    at most and a directory ``prefix/lb<n>`` of its own; yields their pids once each answers
    ready on its own probe port, and stops them all on the way out."""
    async with contextlib.AsyncExitStack() as stack:
        pids: list[int] = []
        for n in range(count):
            probe = free_port()
            own = prefix / f"lb{n}"
            conf = config(
                port, gateways, api, own, maxconn=maxconn, probe_port=probe, check_timeout=check_timeout
            )
            ready = f"http://127.0.0.1:{probe}/health/ready"
            pids.append(await stack.enter_async_context(haproxy(binary, conf, own, ready)))
        yield pids


async def _collect(stream: asyncio.StreamReader, lines: list[str], log: Path) -> None:
    """The last 200 lines in ``lines`` (for errors), every line in ``log`` (servers taken out
    and put back, for whoever runs it)."""
    with log.open("a") as out:
        async for raw in stream:
            line = raw.decode(errors="replace")
            lines.append(line)
            del lines[:-200]
            out.write(line)
            out.flush()

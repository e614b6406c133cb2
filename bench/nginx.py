"""nginx as the reference server of the serving benchmark: its configuration and its process."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bench.debian import command
from bench.targets import Target, stop_process, wait_until_serving
from support.services import free_port

NGINX_PACKAGES = ("nginx-light", "nginx")  # nginx-light is gone from Debian 13: then nginx

# nginx's own defaults but for sendfile, the access log and keep-alive. Not Debian's
# ``tcp_nopush on``: on loopback it cost nginx about a third of its throughput here and put
# 40 ms (delayed-ACK) stalls into its p99 of small range answers.
NGINX_CONF = """\
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
    types {{
        application/vnd.apple.mpegurl m3u8;
        video/mp2t ts;
        image/jpeg jpg;
    }}
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    keepalive_timeout 75s;
    keepalive_requests 1000000;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        location /media/ {{
            add_header Cache-Control "public, max-age=31536000, immutable";
        }}
    }}
}}
"""


@asynccontextmanager
async def nginx_server(
    binary: str, out: Path, prefix_path: str, work: Path, probe_path: str
) -> AsyncIterator[Target]:
    """nginx in the foreground with a configuration of its own, the files under ``prefix_path``."""
    root = work / "www"
    prefix = work / "nginx"
    await asyncio.to_thread(shutil.copytree, out, root / prefix_path.strip("/"))
    await asyncio.to_thread(prefix.mkdir)
    port = free_port()
    # A root master's worker runs as nobody, which may not enter the private temporary directory.
    user = "user root;" if os.geteuid() == 0 else ""
    config = prefix / "nginx.conf"
    text = NGINX_CONF.format(user=user, prefix=prefix, port=port, root=root)
    await asyncio.to_thread(config.write_text, text)
    log = prefix / "error.log"
    process = await asyncio.create_subprocess_exec(
        binary,
        "-p",
        str(prefix),
        "-e",
        str(log),
        "-c",
        str(config),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        await wait_until_serving(process, base + prefix_path + probe_path, log)
        yield Target("nginx", base, process.pid)
    finally:
        await stop_process(process, signal.SIGQUIT)


async def nginx_version(binary: str) -> str:
    _, output = await command(binary, "-v", within=30)
    return output.strip()

"""nginx as the reference server of the serving benchmark: its configuration and its process."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bench.debian import command
from bench.targets import Target
from support.nginx import nginx
from support.services import free_port

NGINX_PACKAGES = ("nginx-light", "nginx")  # nginx-light is gone from Debian 13: then nginx

# The reference: nginx sending the same files under the same URL paths, with the caching header
# ours sends (support/nginx.py has the rest of the configuration).
REFERENCE_SERVER = """\
    types {{
        application/vnd.apple.mpegurl m3u8;
        video/mp2t ts;
        image/jpeg jpg;
    }}
    default_type application/octet-stream;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        location /media/ {{
            add_header Cache-Control "public, max-age=31536000, immutable";
        }}
    }}
"""


@asynccontextmanager
async def nginx_server(
    binary: str, out: Path, prefix_path: str, work: Path, probe_path: str
) -> AsyncIterator[Target]:
    """nginx in the foreground with a configuration of its own, the files under ``prefix_path``."""
    root = work / "www"
    await asyncio.to_thread(shutil.copytree, out, root / prefix_path.strip("/"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    http = REFERENCE_SERVER.format(port=port, root=root)
    async with nginx(binary, http, work / "nginx", base + prefix_path + probe_path) as pid:
        yield Target("nginx", base, pid)


async def nginx_version(binary: str) -> str:
    _, output = await command(binary, "-v", within=30)
    return output.strip()

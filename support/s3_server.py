"""moto's S3 server as a process of its own, so storage tests talk HTTP to a real endpoint the
way they would to S3 or MinIO (no in-process patching of botocore)."""

from __future__ import annotations

import signal
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from server.embedded import children
from support.services import free_port

# moto accepts any credentials; these go in storage URLs' userinfo, not in os.environ.
ACCESS_KEY = "testing"
SECRET_KEY = "testing"
REGION = "us-east-1"


def _answers(endpoint: str) -> bool:
    try:
        urllib.request.urlopen(endpoint, timeout=1).close()
    except urllib.error.HTTPError:
        return True  # an S3 error document is an answer
    except OSError:
        return False
    return True


@contextmanager
def moto_server(root: Path) -> Iterator[str]:
    """Start moto's S3 server on a free port; yield its endpoint URL, ``http://127.0.0.1:<port>``."""
    port = free_port()
    root.mkdir(parents=True, exist_ok=True)
    log_path = root / f"moto-{port}.log"
    argv = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    process = children.spawn(argv, log_path=log_path, death_signal=signal.SIGKILL)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        children.wait_until(lambda: _answers(endpoint), process, "moto S3 server", log_path)
        yield endpoint
    finally:
        children.stop(process, signal.SIGTERM)


def storage_url(endpoint: str, bucket: str, prefix: str = "") -> str:
    """An ``s3://`` storage URL for a bucket on the moto server at ``endpoint``."""
    path = f"/{prefix}" if prefix else ""
    return f"s3://{ACCESS_KEY}:{SECRET_KEY}@{bucket}{path}?endpoint_url={endpoint}&region={REGION}"

"""``mydrtv openapi``: the served document, printed without a server (the web client's types)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient

from core.settings import Settings
from server.cli import openapi_document

ROOT = Path(__file__).resolve().parents[2]


async def test_the_printed_document_is_the_served_one(
    app_client: Callable[..., AsyncTestClient[Any]], tmp_path: Path
) -> None:
    async with app_client(storage_url=tmp_path.as_uri()) as client:
        served = (await client.get("/schema/openapi.json")).json()
    printed = json.loads(openapi_document(Settings()))
    assert printed == served
    assert "/videos/{video_id}/media" in printed["paths"]  # media routes, though nothing is configured


def test_the_command_needs_no_settings_and_prints_only_json(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", "openapi"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        check=True,
        timeout=60,
    )
    document = json.loads(done.stdout)
    assert document["info"]["title"] == "MyDRTV social layer"
    assert "Error" in document["components"]["schemas"]


def test_the_printed_document_is_the_same_byte_for_byte_in_every_process(tmp_path: Path) -> None:
    """The web client's types are generated from it and checked for staleness: an order that
    followed Python's string hashing (a handler's paths are kept in a set) failed that check."""

    def printed(seed: str) -> bytes:
        return subprocess.run(
            [sys.executable, "-m", "server.cli", "openapi"],
            cwd=ROOT,
            env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONHASHSEED": seed},
            capture_output=True,
            check=True,
            timeout=60,
        ).stdout

    assert len({printed(seed) for seed in ("1", "2", "3", "4")}) == 1

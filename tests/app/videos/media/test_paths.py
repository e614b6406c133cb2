"""Media paths that name nothing a generation holds (``.``, ``..``, backslashes, NUL) are 404s,
never 500s; the files that are there are still served."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from app.videos.media.worker import hls_prefix
from core.settings import Settings
from media.storage import open_storage
from server.factory import create_app
from tests.app.video_helpers import new_video
from tests.users import person

Client = AsyncTestClient[Any]
GENERATION = "g1"


@pytest.fixture(scope="module")
async def api(media_settings: Settings) -> AsyncIterator[Client]:
    async with AsyncTestClient(app=create_app(media_settings)) as client:
        yield client


@pytest.fixture(scope="module")
async def video(api: Client, media_settings: Settings) -> str:
    """A public video with one generation in storage, as if the worker had made it."""
    video = await new_video(api, await person(media_settings))
    storage = open_storage(media_settings.storage_url)
    try:
        prefix = hls_prefix(video, GENERATION)
        await storage.put_bytes(prefix + "master.m3u8", b"#EXTM3U\n", "application/vnd.apple.mpegurl")
        await storage.put_bytes(prefix + "240p/index.m3u8", b"#EXTM3U\n", "application/vnd.apple.mpegurl")
    finally:
        await storage.close()
    connection = await asyncpg.connect(media_settings.database_url)
    try:
        await connection.execute(
            "UPDATE videos SET status = 'ready', media_generation = $1 WHERE id = $2",
            GENERATION,
            uuid.UUID(video),
        )
    finally:
        await connection.close()
    return video


async def test_files_of_a_generation_are_served(api: Client, video: str) -> None:
    for name in ("master.m3u8", "240p/index.m3u8"):
        response = await api.get(f"/media/{video}/{GENERATION}/{name}")
        assert response.status_code == 200, (name, response.text)
        assert response.headers["cache-control"].startswith("public, max-age=31536000")


@pytest.mark.parametrize(
    "path",
    [
        "%2E/master.m3u8",  # httpx would resolve a literal ``./``; the server sees ``.`` either way
        "240p/%2E/index.m3u8",
        "240p/%2E%2E/master.m3u8",
        "%2Emaster.m3u8",
        "240p%5Cindex.m3u8",
        "240p\\index.m3u8",
        "master.m3u8%00",
        "%00/master.m3u8",
        "%2E",
        "%2E%2E",
        "master.m3u8%00.jpg",
    ],
)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
async def test_paths_that_name_no_file_are_not_found(api: Client, video: str, path: str, method: str) -> None:
    response = await api.request(method, f"/media/{video}/{GENERATION}/{path}")
    assert response.status_code == 404, (path, response.status_code, response.text)
    if method == "GET":
        assert response.json()["error"] in ("media_not_found", "not_found")


@pytest.mark.parametrize("generation", ["%00", ".", "..", "g1%00"])
async def test_generations_that_name_nothing_are_not_found(api: Client, video: str, generation: str) -> None:
    response = await api.get(f"/media/{video}/{generation}/master.m3u8")
    assert response.status_code == 404, (generation, response.text)

"""The whole media path on S3 (moto's S3 server in a process of its own on loopback): upload,
transcode, segments proxied with ranges, or answered by redirect to presigned S3 URLs."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import msgspec
import pytest
from litestar.testing import AsyncTestClient

from app.videos.media.worker import hls_prefix
from core.settings import Settings
from media.storage import open_storage
from media.storage.s3 import S3Storage
from media.testclips import make_test_clip
from server.factory import create_app
from support.s3_server import moto_server, storage_url
from tests.app.video_helpers import new_video
from tests.app.videos.media.waiting import upload_and_wait
from tests.users import person

Client = AsyncTestClient[Any]


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with moto_server(tmp_path_factory.mktemp("moto")) as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
async def s3_settings(settings: Settings, s3_endpoint: str) -> Settings:
    url = storage_url(s3_endpoint, f"media-{uuid.uuid4().hex[:8]}")
    storage = open_storage(url)
    assert isinstance(storage, S3Storage)
    await storage.ensure_bucket()
    await storage.close()
    return msgspec.structs.replace(settings, storage_url=url, transcode_poll_seconds=0.5)


async def _segment_url(api: Client, video: str) -> str:
    master_url = (await api.get(f"/videos/{video}/playback")).json()["master_url"]
    base = master_url.rsplit("/", 1)[0]
    master = (await api.get(master_url)).text
    variant = next(line for line in master.splitlines() if line.endswith(".m3u8"))
    playlist = (await api.get(f"{base}/{variant}")).text
    segment = next(line for line in playlist.splitlines() if line and not line.startswith("#"))
    return f"{base}/{variant.rsplit('/', 1)[0]}/{segment}"


@pytest.fixture(scope="module")
async def ready_video(s3_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    clip = tmp_path_factory.mktemp("clips") / "clip.mp4"
    await make_test_clip(clip, seconds=2, width=426, height=240)
    owner = await person(s3_settings)
    async with AsyncTestClient(app=create_app(s3_settings)) as api:
        video = await new_video(api, owner)
        _, final = await upload_and_wait(api, s3_settings, owner, video, clip.read_bytes())
        assert final["status"] == "ready", final
    yield video


async def test_segments_are_proxied_from_s3_with_ranges(s3_settings: Settings, ready_video: str) -> None:
    async with AsyncTestClient(app=create_app(s3_settings)) as api:
        assert (await api.get("/health/ready")).json()["backends"]["storage"] == "up"
        url = await _segment_url(api, ready_video)
        whole = await api.get(url)
        part = await api.get(url, headers={"Range": "bytes=10-19"})
    assert whole.status_code == 200 and whole.content[0] == 0x47
    assert whole.headers["etag"]
    assert part.status_code == 206 and part.content == whole.content[10:20]


async def test_with_redirects_segments_come_from_presigned_urls(
    s3_settings: Settings, ready_video: str
) -> None:
    async with AsyncTestClient(
        app=create_app(msgspec.structs.replace(s3_settings, media_redirect=True))
    ) as api:
        url = await _segment_url(api, ready_video)  # playlists still come from the API
        answer = await api.get(url, follow_redirects=False)
        again = await api.get(url, follow_redirects=False)
    assert answer.status_code == 302
    location = answer.headers["location"]
    assert again.headers["location"] == location, "one URL per file while it is young: signing is costly"
    endpoint = s3_settings.storage_url.split("endpoint_url=")[1].split("&")[0]
    assert location.startswith(endpoint)
    async with httpx.AsyncClient() as http:
        from_s3 = await http.get(location)
    video, generation, path = url.removeprefix("/media/").split("/", 2)
    storage = open_storage(s3_settings.storage_url)
    try:
        stored = b"".join([chunk async for chunk in storage.read(hls_prefix(video, generation) + path)])
    finally:
        await storage.close()
    assert from_s3.status_code == 200 and from_s3.content == stored and stored[0] == 0x47

"""Avatars in an S3 bucket (moto's S3 server in a process of its own): stored, served through the
API or by redirect to a presigned URL, deleted with the profile."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator

import httpx
import msgspec
import pytest
from litestar.testing import AsyncTestClient
from PIL import Image

from core.settings import Settings
from media.storage import open_storage
from media.storage.s3 import S3Storage
from server.factory import create_app
from support.s3_server import moto_server, storage_url
from tests.app.profiles.helpers import jpeg_with_gps, member


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with moto_server(tmp_path_factory.mktemp("moto")) as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
async def s3_settings(settings: Settings, s3_endpoint: str) -> Settings:
    url = storage_url(s3_endpoint, f"avatars-{uuid.uuid4().hex[:8]}")
    storage = open_storage(url)
    assert isinstance(storage, S3Storage)
    await storage.ensure_bucket()
    await storage.close()
    return msgspec.structs.replace(settings, storage_url=url, media_worker=False)


async def test_an_avatar_round_trips_through_s3_without_metadata(s3_settings: Settings) -> None:
    me = await member(s3_settings)
    async with AsyncTestClient(app=create_app(s3_settings)) as api:
        uploaded = await api.put(
            "/me/avatar", content=jpeg_with_gps(), headers={**me.headers, "content-type": "image/jpeg"}
        )
        assert uploaded.status_code == 200, uploaded.text
        url = uploaded.json()["avatar"][1]["url"]
        served = await api.get(url)
        assert served.status_code == 200
        assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert Image.open(io.BytesIO(served.content)).size == (256, 256)
        assert b"Exif" not in served.content and b"CameraMakerXYZ" not in served.content
        assert (await api.delete("/me/avatar", headers=me.headers)).status_code == 204
        assert (await api.get(url)).status_code == 404


async def test_with_redirects_avatars_come_from_presigned_urls(s3_settings: Settings) -> None:
    me = await member(s3_settings)
    redirecting = msgspec.structs.replace(s3_settings, media_redirect=True)
    async with AsyncTestClient(app=create_app(redirecting)) as api:
        uploaded = await api.put(
            "/me/avatar", content=jpeg_with_gps(), headers={**me.headers, "content-type": "image/jpeg"}
        )
        answer = await api.get(uploaded.json()["avatar"][0]["url"], follow_redirects=False)
    assert answer.status_code == 302
    async with httpx.AsyncClient() as http:
        from_s3 = await http.get(answer.headers["location"])
    assert from_s3.status_code == 200
    assert Image.open(io.BytesIO(from_s3.content)).size == (64, 64)

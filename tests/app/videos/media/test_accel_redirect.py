"""Media behind nginx (``MYDRTV_MEDIA_ACCEL_REDIRECT``): the server authorizes, nginx sends bytes.

A real nginx runs ``deploy/nginx/mydrtv.conf`` (its addresses and paths pointed at this test's
server and storage) in front of a real ``mydrtv serve``, so the shipped configuration is the one
proven here: whole files, ranges, validators and caching as the server decides them, private media
refused without a signed URL, and the internal location closed to clients.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import msgspec
import pytest

from app.videos.media.serving import IMMUTABLE
from app.videos.media.worker import hls_prefix
from core.settings import Settings, SettingsError
from media.signing import MediaTokens
from media.storage import open_storage
from media.storage.base import guess_content_type
from server import backends
from support.nginx import front_config, nginx, nginx_binary
from support.people import person
from support.processes import ServerProcess
from support.services import free_port

ACCEL = "/_mydrtv_media/"
GENERATION = "1a1"
SEGMENT = "240p/seg_00001.ts"
FILES = {
    "master.m3u8": b"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=400000\n240p/index.m3u8\n",
    "240p/index.m3u8": b"#EXTM3U\n#EXTINF:4.0,\nseg_00001.ts\n#EXT-X-ENDLIST\n",
    SEGMENT: os.urandom(300_000),
}

pytestmark = pytest.mark.skipif(
    nginx_binary() is None, reason="nginx is missing: `make test` installs Debian's nginx-light as root"
)


class Stack(msgspec.Struct):
    server: str  # the mydrtv server itself
    proxy: str  # nginx in front of it
    public: uuid.UUID
    private: uuid.UUID
    tokens: MediaTokens


async def _video(settings: Settings, root: Path, visibility: str) -> uuid.UUID:
    video_id = uuid.uuid4()
    storage = open_storage(root.as_uri())
    try:
        for name, data in FILES.items():
            await storage.put_bytes(hls_prefix(video_id, GENERATION) + name, data, guess_content_type(name))
    finally:
        await storage.close()
    owner = await person(settings)
    connection = await asyncpg.connect(settings.database_url)
    try:
        await connection.execute(
            "INSERT INTO videos (id, owner_id, title, visibility, status, media_generation)"
            " VALUES ($1, $2, 'accel', $3, 'ready', $4)",
            video_id,
            owner.id,
            visibility,
            GENERATION,
        )
    finally:
        await connection.close()
    return video_id


@pytest.fixture(scope="module")
async def stack(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    binary = nginx_binary()
    assert binary is not None
    root = tmp_path_factory.mktemp("accel-storage")
    served = msgspec.structs.replace(
        settings, storage_url=root.as_uri(), media_accel_redirect=ACCEL, media_worker=False
    )
    public, private = await _video(settings, root, "public"), await _video(settings, root, "private")
    server = ServerProcess(served)
    await server.start()
    try:
        port = free_port()
        cache = tmp_path_factory.mktemp("nginx-cache")
        http = front_config(server.port, port, root, cache)
        proxy = f"http://127.0.0.1:{port}"
        async with nginx(binary, http, tmp_path_factory.mktemp("nginx"), proxy + "/health/live"):
            tokens = MediaTokens(settings.jwt_secret, settings.jwt_issuer, 3600)
            yield Stack(server.http_url, proxy, public, private, tokens)
    finally:
        await server.stop()


def _path(video: uuid.UUID, name: str, token: str = "") -> str:
    return f"/media/{'t/' + token + '/' if token else ''}{video}/{GENERATION}/{name}"


async def test_the_server_names_the_file_and_sends_no_bytes(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.server) as http:
        answer = await http.get(_path(stack.public, SEGMENT))
    assert answer.status_code == 200 and answer.content == b""
    assert answer.headers["x-accel-redirect"] == ACCEL + hls_prefix(stack.public, GENERATION) + SEGMENT


@pytest.mark.parametrize("name", list(FILES))
async def test_nginx_sends_each_public_file_whole_with_the_server_s_caching(stack: Stack, name: str) -> None:
    async with httpx.AsyncClient(base_url=stack.proxy) as http:
        answer = await http.get(_path(stack.public, name))
    assert answer.status_code == 200
    assert answer.content == FILES[name]
    assert answer.headers["cache-control"] == IMMUTABLE
    expected = "video/mp2t" if name.endswith(".ts") else "application/vnd.apple.mpegurl"
    assert answer.headers["content-type"] == expected
    assert "x-accel-redirect" not in answer.headers


async def test_ranges_and_validators_come_from_nginx(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.proxy) as http:
        ranged = await http.get(_path(stack.public, SEGMENT), headers={"Range": "bytes=1000-66535"})
        assert ranged.status_code == 206
        assert ranged.content == FILES[SEGMENT][1000:66536]
        assert ranged.headers["content-range"] == f"bytes 1000-66535/{len(FILES[SEGMENT])}"
        etag = ranged.headers["etag"]
        again = await http.get(_path(stack.public, SEGMENT), headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        beyond = await http.get(_path(stack.public, SEGMENT), headers={"Range": "bytes=999999999-"})
        assert beyond.status_code == 416


async def test_private_media_needs_a_signed_url_and_is_cached_privately(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.proxy) as http:
        refused = await http.get(_path(stack.private, SEGMENT))
        assert refused.status_code == 403
        assert refused.json()["error"] == "signed_url_required"
        token, _ = stack.tokens.issue(stack.private)
        signed = await http.get(_path(stack.private, SEGMENT, token))
        assert signed.status_code == 200 and signed.content == FILES[SEGMENT]
        assert signed.headers["cache-control"].startswith("private, max-age=")
        forged, _ = stack.tokens.issue(stack.public)  # a token for another video
        wrong = await http.get(_path(stack.private, SEGMENT, forged))
        assert wrong.status_code in (403, 404)


async def test_clients_cannot_reach_the_files_around_the_server(stack: Stack) -> None:
    direct = ACCEL + hls_prefix(stack.private, GENERATION) + SEGMENT
    async with httpx.AsyncClient(base_url=stack.proxy) as http:
        assert (await http.get(direct)).status_code == 404
        assert (await http.get(_path(stack.public, "240p/seg_99999.ts"))).status_code == 404
        assert (await http.get(f"/media/{stack.public}/9z9/{SEGMENT}")).status_code == 404
        # A refusal nginx hands back to the server carries the server's reason.
        missing = await http.get(_path(uuid.uuid4(), "master.m3u8"))
        assert missing.status_code == 404 and missing.json()["error"] == "media_not_found"
        assert (await http.get(_path(stack.public, "a/../../../secret"))).status_code in (400, 404)


@pytest.mark.parametrize(
    ("storage_url", "accel"),
    [
        ("s3://bucket?endpoint_url=http://127.0.0.1:1", ACCEL),
        ("file:///tmp/media", "_media"),
        ("file:///tmp/m", "/m"),
    ],
)
def test_accel_redirect_needs_filesystem_storage_and_a_location_path(storage_url: str, accel: str) -> None:
    with pytest.raises(SettingsError, match="MYDRTV_MEDIA_ACCEL_REDIRECT"):
        backends.storage(Settings(storage_url=storage_url, media_accel_redirect=accel))

"""Secure links (``MYDRTV_MEDIA_SECURE_LINK_SECRET``): nginx checks the links playback hands out
and sends the files with no request to a server; the server checks the same links alike.

A real nginx runs ``deploy/nginx/mydrtv.conf`` with the secret written in, in front of a real
``mydrtv serve``: good links are served whole and in ranges (even with no server behind nginx at
all), and tampered, expired and retired-generation links and private media without a link are
refused with the server's reason. The same links are checked by the server alone (in process).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
import uuid
from base64 import urlsafe_b64encode
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest
from litestar.testing import AsyncTestClient

from app.videos.media.serving import SECURE_LINK_CACHE
from app.videos.media.worker import hls_prefix
from core.settings import Settings, SettingsError
from media.secure_links import SecureLinks
from media.storage import open_storage
from media.storage.base import guess_content_type
from server import backends
from server.factory import create_app
from support.nginx import front_config, nginx, nginx_binary
from support.people import Person, person
from support.processes import ServerProcess
from support.services import free_port

SECRET = "test-link-secret-" + "0123456789abcdef" * 2
LIFETIME = 300
ACCEL = "/_mydrtv_media/"
CURRENT, PREVIOUS, RETIRED = "2b2", "1a1", "0z0"
SEGMENT = "240p/seg_00001.ts"
FILES = {
    "master.m3u8": b"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=400000\n240p/index.m3u8\n",
    "240p/index.m3u8": b"#EXTM3U\n#EXTINF:4.0,\nseg_00001.ts\n#EXT-X-ENDLIST\n",
    SEGMENT: os.urandom(300_000),
}
LINKS = SecureLinks(SECRET, LIFETIME)

needs_nginx = pytest.mark.skipif(
    nginx_binary() is None, reason="nginx is missing: `make test` installs Debian's nginx-light as root"
)


class Videos(msgspec.Struct):
    owner: Person
    public: uuid.UUID  # current and previous generations stored; the retired one's files deleted
    private: uuid.UUID
    lingering: uuid.UUID  # a retired generation whose files are still there


class Stack(msgspec.Struct):
    proxy: str  # nginx with the secret, in front of the server
    unconfigured: str  # nginx with the shipped empty secret, in front of the same server
    serverless: str  # nginx with the secret and no server behind it


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("link-storage")


async def _video(
    settings: Settings, root: Path, owner: Person, visibility: str, stored: list[str]
) -> uuid.UUID:
    video_id = uuid.uuid4()
    storage = open_storage(root.as_uri())
    try:
        for generation in stored:
            for name, data in FILES.items():
                key = hls_prefix(video_id, generation) + name
                await storage.put_bytes(key, data, guess_content_type(name))
    finally:
        await storage.close()
    connection = await asyncpg.connect(settings.database_url)
    try:
        await connection.execute(
            "INSERT INTO videos (id, owner_id, title, visibility, status, media_generation,"
            " previous_generation) VALUES ($1, $2, 'links', $3, 'ready', $4, $5)",
            video_id,
            owner.id,
            visibility,
            CURRENT,
            PREVIOUS,
        )
    finally:
        await connection.close()
    return video_id


@pytest.fixture(scope="module")
async def videos(settings: Settings, root: Path) -> Videos:
    owner = await person(settings)
    return Videos(
        owner,
        public=await _video(settings, root, owner, "public", [CURRENT, PREVIOUS]),
        private=await _video(settings, root, owner, "private", [CURRENT]),
        lingering=await _video(settings, root, owner, "public", [CURRENT, PREVIOUS, RETIRED]),
    )


def _linked(settings: Settings, root: Path, **more: Any) -> Settings:
    return msgspec.structs.replace(
        settings,
        storage_url=root.as_uri(),
        media_worker=False,
        media_secure_link_secret=SECRET,
        media_secure_link_seconds=LIFETIME,
        **more,
    )


@pytest.fixture(scope="module")
async def api(settings: Settings, root: Path, videos: Videos) -> AsyncIterator[AsyncTestClient[Any]]:
    """The server alone, sending the bytes itself."""
    async with AsyncTestClient(app=create_app(_linked(settings, root))) as client:
        yield client


@pytest.fixture(scope="module")
async def stack(
    settings: Settings, root: Path, videos: Videos, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    binary = nginx_binary()
    assert binary is not None
    server = ServerProcess(_linked(settings, root, media_accel_redirect=ACCEL))
    await server.start()
    try:
        fronts: list[str] = []
        async with contextlib.AsyncExitStack() as running:
            for upstream, secret in ((server.port, SECRET), (server.port, ""), (free_port(), SECRET)):
                port = free_port()
                cache = tmp_path_factory.mktemp("nginx-cache")
                http = front_config(upstream, port, root, cache, secret)
                proxy = f"http://127.0.0.1:{port}"
                await running.enter_async_context(
                    nginx(binary, http, tmp_path_factory.mktemp("nginx"), proxy + "/health/live")
                )
                fronts.append(proxy)
            yield Stack(*fronts)
    finally:
        await server.stop()


def _link(video: uuid.UUID, name: str, generation: str = CURRENT, now: float | None = None) -> str:
    return LINKS.prefix(video, generation, now)[0] + name


def _tampered(link: str) -> str:
    signature = link.split("/")[3]
    return link.replace(signature, ("A" if signature[0] != "A" else "B") + signature[1:])


def _reason(answer: httpx.Response) -> tuple[int, str]:
    return answer.status_code, answer.json()["error"]


async def test_playback_hands_out_secure_links_for_every_video(
    api: AsyncTestClient[Any], videos: Videos
) -> None:
    before = time.time()
    playback = (await api.get(f"/videos/{videos.public}/playback")).json()
    master = playback["master_url"]
    assert master.startswith("/media/l/") and master.endswith(f"/{videos.public}/{CURRENT}/master.m3u8")
    expires = int(master.split("/")[4])
    assert before + LIFETIME - 1 <= expires <= time.time() + LIFETIME
    assert playback["poster_url"] == master.removesuffix("master.m3u8") + "poster.jpg"
    assert playback["expires_at"] is not None

    served = await api.get(master)
    assert served.status_code == 200 and served.content == FILES["master.m3u8"]
    assert served.headers["cache-control"] == SECURE_LINK_CACHE
    # The playlist's relative URL resolves to a link signed alike.
    segment = str(httpx.URL(master).join("240p/index.m3u8").join("seg_00001.ts"))
    ranged = await api.get(segment, headers={"Range": "bytes=100-199"})
    assert ranged.status_code == 206 and ranged.content == FILES[SEGMENT][100:200]

    private = (await api.get(f"/videos/{videos.private}/playback", headers=videos.owner.headers)).json()
    assert private["master_url"].startswith("/media/l/")
    assert (await api.get(private["master_url"])).content == FILES["master.m3u8"]
    assert (await api.get(f"/videos/{videos.private}/playback")).status_code == 404


async def test_the_server_alone_refuses_what_nginx_refuses(api: AsyncTestClient[Any], videos: Videos) -> None:
    assert _reason(await api.get(_tampered(_link(videos.public, SEGMENT)))) == (403, "signed_url_invalid")
    expired = _link(videos.public, SEGMENT, now=time.time() - LIFETIME - 5)
    assert _reason(await api.get(expired)) == (403, "signed_url_expired")
    elsewhere = _link(videos.public, SEGMENT).replace(str(videos.public), str(videos.private))
    assert _reason(await api.get(elsewhere)) == (403, "signed_url_invalid")
    assert (await api.get(_link(videos.public, SEGMENT, PREVIOUS))).status_code == 200
    # Not served even while its files are still in storage.
    retired = await api.get(_link(videos.lingering, SEGMENT, RETIRED))
    assert _reason(retired) == (404, "media_not_found")
    unsigned = await api.get(f"/media/{videos.private}/{CURRENT}/{SEGMENT}")
    assert _reason(unsigned) == (403, "signed_url_required")
    malformed = _link(videos.public, SEGMENT).replace(f"/{videos.public}", f"x/{videos.public}", 1)
    assert _reason(await api.get(malformed)) == (403, "signed_url_invalid")


async def test_a_server_without_the_secret_refuses_links(
    settings: Settings, root: Path, videos: Videos
) -> None:
    plain = msgspec.structs.replace(settings, storage_url=root.as_uri(), media_worker=False)
    async with AsyncTestClient(app=create_app(plain)) as client:
        answer = await client.get(_link(videos.public, SEGMENT))
    assert _reason(answer) == (403, "signed_url_invalid")


@needs_nginx
async def test_nginx_sends_good_links_whole_and_in_ranges(stack: Stack, videos: Videos) -> None:
    async with httpx.AsyncClient(base_url=stack.proxy) as http:
        for name, data in FILES.items():
            answer = await http.get(_link(videos.public, name))
            assert answer.status_code == 200 and answer.content == data
            assert answer.headers["cache-control"] == SECURE_LINK_CACHE
            expected = "video/mp2t" if name.endswith(".ts") else "application/vnd.apple.mpegurl"
            assert answer.headers["content-type"] == expected
        ranged = await http.get(_link(videos.public, SEGMENT), headers={"Range": "bytes=1000-66535"})
        assert ranged.status_code == 206 and ranged.content == FILES[SEGMENT][1000:66536]
        assert ranged.headers["content-range"] == f"bytes 1000-66535/{len(FILES[SEGMENT])}"
        etag = ranged.headers["etag"]
        again = await http.get(_link(videos.public, SEGMENT), headers={"If-None-Match": etag})
        assert again.status_code == 304
        previous = await http.get(_link(videos.public, SEGMENT, PREVIOUS))
        assert previous.status_code == 200 and previous.content == FILES[SEGMENT]
        private = await http.get(_link(videos.private, SEGMENT))
        assert private.status_code == 200 and private.content == FILES[SEGMENT]


@needs_nginx
async def test_nginx_needs_no_server_to_send_a_good_link(stack: Stack, videos: Videos) -> None:
    async with httpx.AsyncClient(base_url=stack.serverless) as http:
        whole = await http.get(_link(videos.private, SEGMENT))
        assert whole.status_code == 200 and whole.content == FILES[SEGMENT]
        ranged = await http.get(_link(videos.private, SEGMENT), headers={"Range": "bytes=0-65535"})
        assert ranged.status_code == 206 and ranged.content == FILES[SEGMENT][:65536]
        assert (await http.get(_tampered(_link(videos.private, SEGMENT)))).status_code == 502  # no one to ask


@needs_nginx
async def test_nginx_hands_refusals_to_the_server_for_their_reason(stack: Stack, videos: Videos) -> None:
    async with httpx.AsyncClient(base_url=stack.proxy) as http:
        tampered = await http.get(_tampered(_link(videos.private, SEGMENT)))
        assert _reason(tampered) == (403, "signed_url_invalid")
        expired = await http.get(_link(videos.private, SEGMENT, now=time.time() - LIFETIME - 5))
        assert _reason(expired) == (403, "signed_url_expired")
        elsewhere = _link(videos.public, SEGMENT).replace(str(videos.public), str(videos.private))
        assert _reason(await http.get(elsewhere)) == (403, "signed_url_invalid")
        # The worker deletes a retired generation's files as it publishes the next one.
        retired = await http.get(_link(videos.public, SEGMENT, RETIRED))
        assert _reason(retired) == (404, "media_not_found")
        missing = await http.get(_link(videos.public, "240p/seg_99999.ts"))
        assert missing.status_code == 404
        unsigned = await http.get(f"/media/{videos.private}/{CURRENT}/{SEGMENT}")
        assert _reason(unsigned) == (403, "signed_url_required")


@needs_nginx
async def test_nginx_with_the_shipped_empty_secret_checks_nothing_itself(
    stack: Stack, videos: Videos
) -> None:
    expires = int(time.time()) + LIFETIME
    digest = hashlib.md5(f"{expires}/{videos.private}/{CURRENT} ".encode()).digest()
    signature = urlsafe_b64encode(digest).decode().rstrip("=")
    forged = f"/media/l/{signature}/{expires}/{videos.private}/{CURRENT}/"
    async with httpx.AsyncClient(base_url=stack.unconfigured) as http:
        assert _reason(await http.get(forged + SEGMENT)) == (403, "signed_url_invalid")
        # A good link still plays: the server checks it and nginx sends the file.
        good = await http.get(_link(videos.private, SEGMENT))
        assert good.status_code == 200 and good.content == FILES[SEGMENT]


@pytest.mark.parametrize(("secret", "seconds"), [("short", 300), ("x" * 32 + "$x", 300), ("x" * 32, 0)])
def test_secure_links_need_a_long_plain_secret_and_a_lifetime(secret: str, seconds: int) -> None:
    with pytest.raises(SettingsError, match="MYDRTV_MEDIA_SECURE_LINK_SECRET"):
        backends.secure_links(Settings(media_secure_link_secret=secret, media_secure_link_seconds=seconds))

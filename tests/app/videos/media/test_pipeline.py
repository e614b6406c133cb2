"""Upload → transcode → playlist → segment, through the API on real PostgreSQL, Redis, ffmpeg and
filesystem storage; the errors of each step; private videos' signed URLs."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from litestar.testing import AsyncTestClient

from core.settings import Settings
from media.signing import MediaTokens
from media.testclips import make_test_clip
from tests.app.video_helpers import new_video
from tests.app.videos.media.waiting import upload_and_wait
from tests.processes import ServerProcess
from tests.users import Person, person

Client = AsyncTestClient[Any]


@pytest.fixture(scope="module")
async def clip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("clips") / "clip.mp4"
    await make_test_clip(path, seconds=3, width=426, height=240)
    return path.read_bytes()


@pytest.fixture(scope="module")
def media_settings(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    storage = tmp_path_factory.mktemp("storage")
    return msgspec.structs.replace(
        settings, storage_url=storage.as_uri(), transcode_poll_seconds=0.5, media_max_upload_bytes=2_000_000
    )


@pytest.fixture(scope="module")
async def api(media_settings: Settings) -> AsyncIterator[Client]:
    from server.factory import create_app

    async with AsyncTestClient(app=create_app(media_settings)) as client:
        yield client


async def _ready_video(api: Client, settings: Settings, owner: Person, clip: bytes, **fields: Any) -> str:
    video = await new_video(api, owner, **fields)
    _, final = await upload_and_wait(api, settings, owner, video, clip)
    assert final["status"] == "ready", final
    return video


async def test_an_upload_becomes_hls_that_plays_with_ranges(
    api: Client, media_settings: Settings, clip: bytes
) -> None:
    owner = await person(media_settings)
    video = await new_video(api, owner)
    seen: list[dict[str, Any]] = []
    accepted, final = await upload_and_wait(api, media_settings, owner, video, clip, seen)
    assert accepted["video"]["status"] == "uploaded"
    assert accepted["source"]["height"] == 240 and accepted["source"]["audio_codec"] == "aac"
    assert final == {"type": "media.status", "video_id": video, "status": "ready", "reason": None}
    statuses = [e["status"] for e in seen if e["type"] == "media.status"]
    assert statuses == ["uploaded", "processing", "ready"]
    fractions = [e["fraction"] for e in seen if e["type"] == "media.progress" and e["stage"] == "transcoding"]
    assert fractions and fractions == sorted(fractions) and fractions[-1] == 1.0

    row = (await api.get(f"/videos/{video}")).json()
    assert row["status"] == "ready" and row["duration_seconds"] == pytest.approx(3, abs=0.1)
    playback = (await api.get(f"/videos/{video}/playback")).json()
    assert playback["expires_at"] is None
    master = await api.get(playback["master_url"])
    assert master.status_code == 200
    assert master.headers["content-type"].startswith("application/vnd.apple.mpegurl")
    assert "immutable" in master.headers["cache-control"]
    variant = re.search(r"^(\S+\.m3u8)$", master.text, re.MULTILINE)
    assert variant is not None
    base = playback["master_url"].rsplit("/", 1)[0]
    playlist = await api.get(f"{base}/{variant.group(1)}")
    assert "#EXT-X-ENDLIST" in playlist.text
    segment_name = next(line for line in playlist.text.splitlines() if line and not line.startswith("#"))
    segment_url = f"{base}/{variant.group(1).rsplit('/', 1)[0]}/{segment_name}"

    whole = await api.get(segment_url)
    assert whole.status_code == 200 and whole.headers["content-type"] == "video/mp2t"
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.content[0] == 0x47  # an MPEG-TS sync byte
    size = len(whole.content)
    part = await api.get(segment_url, headers={"Range": "bytes=100-299"})
    assert part.status_code == 206 and part.content == whole.content[100:300]
    assert part.headers["content-range"] == f"bytes 100-299/{size}"
    tail = await api.get(segment_url, headers={"Range": "bytes=-50"})
    assert tail.status_code == 206 and tail.content == whole.content[-50:]
    beyond = await api.get(segment_url, headers={"Range": f"bytes={size}-"})
    assert beyond.status_code == 416 and beyond.headers["content-range"] == f"bytes */{size}"
    head = await api.head(segment_url)
    assert head.status_code == 200 and head.headers["content-length"] == str(size) and head.content == b""
    etag = whole.headers["etag"]
    assert (await api.get(segment_url, headers={"If-None-Match": etag})).status_code == 304
    poster = await api.get(playback["poster_url"])
    assert poster.status_code == 200 and poster.content[:3] == b"\xff\xd8\xff"


async def test_upload_errors(api: Client, media_settings: Settings, clip: bytes, tmp_path: Path) -> None:
    owner, stranger = await person(media_settings), await person(media_settings)
    video = await new_video(api, owner)
    url = f"/videos/{video}/media"

    cases: list[tuple[Any, dict[str, str], int, str]] = [
        (clip, stranger.headers, 403, "not_owner"),
        (clip, {}, 401, "unauthenticated"),
        (b"x" * 2_000_001, owner.headers, 413, "upload_too_large"),
        (b"just some text, not a video\n" * 100, owner.headers, 422, "not_a_video"),
        (b"", owner.headers, 422, "empty_upload"),
        (clip[:2048], owner.headers, 422, "not_a_video"),
    ]
    for body, headers, status, code in cases:
        response = await api.put(url, content=body, headers=headers)
        assert (response.status_code, response.json()["error"]) == (status, code), response.text
        assert response.json()["message"]
    missing = await api.put(f"/videos/{uuid.uuid4()}/media", content=clip, headers=owner.headers)
    assert missing.status_code == 404
    assert (await api.get(f"/videos/{video}")).json()["status"] == "draft"  # nothing was accepted
    not_ready = await api.get(f"/videos/{video}/playback")
    assert (not_ready.status_code, not_ready.json()["error"]) == (409, "media_not_ready")


async def test_a_streamed_upload_is_counted_as_it_arrives(media_settings: Settings, clip: bytes) -> None:
    """Without Content-Length the limit holds while the body streams in (a real server process:
    the in-process test client cannot stream a request body)."""
    server = ServerProcess(msgspec.structs.replace(media_settings, media_worker=False, outbox_relay=False))
    await server.start()
    try:
        owner = await person(media_settings)
        async with httpx.AsyncClient(base_url=server.http_url, headers=owner.headers) as http:
            created = await http.post("/videos", json={"title": "streamed"})
            url = f"/videos/{created.json()['id']}/media"

            async def chunks(data: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
                for start in range(0, len(data), size):
                    yield data[start : start + size]

            too_large = await http.put(url, content=chunks(b"\0" * 2_500_000))
            accepted = await http.put(url, content=chunks(clip))
    finally:
        await server.stop()
    assert "content-length" not in too_large.request.headers
    assert (too_large.status_code, too_large.json()["error"]) == (413, "upload_too_large")
    assert too_large.json()["details"] == {"max_bytes": 2_000_000}
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["video"]["status"] == "uploaded"


async def test_serving_refuses_what_is_not_served(api: Client, media_settings: Settings, clip: bytes) -> None:
    owner = await person(media_settings)
    video = await _ready_video(api, media_settings, owner, clip)
    base = (await api.get(f"/videos/{video}/playback")).json()["master_url"].rsplit("/", 1)[0]
    generation = base.rsplit("/", 1)[1]

    for path in (
        f"/media/{video}/other-generation/master.m3u8",
        f"{base}/no-such-file.ts",
        f"/media/{uuid.uuid4()}/{generation}/master.m3u8",
        f"{base}/240p/%2E%2E/%2E%2E/{generation}/master.m3u8",
    ):
        response = await api.get(path)
        assert response.status_code == 404, (path, response.text)


async def test_private_media_needs_a_signed_url(api: Client, media_settings: Settings, clip: bytes) -> None:
    owner, stranger = await person(media_settings), await person(media_settings)
    video = await _ready_video(api, media_settings, owner, clip, visibility="private")

    assert (await api.get(f"/videos/{video}/playback", headers=stranger.headers)).status_code == 404
    assert (await api.get(f"/videos/{video}/playback")).status_code == 404
    playback = (await api.get(f"/videos/{video}/playback", headers=owner.headers)).json()
    assert playback["expires_at"] is not None
    signed = playback["master_url"]
    token, generation = signed.split("/")[3], signed.split("/")[5]
    assert (await api.get(signed)).status_code == 200
    poster = await api.get(playback["poster_url"])
    assert poster.status_code == 200 and poster.headers["cache-control"].startswith("private, max-age=")

    unsigned = await api.get(f"/media/{video}/{generation}/master.m3u8")
    assert (unsigned.status_code, unsigned.json()["error"]) == (403, "signed_url_required")
    tampered = signed.replace(token, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    assert (await api.get(tampered)).json()["error"] == "signed_url_invalid"
    expired_token, _ = MediaTokens(media_settings.jwt_secret, media_settings.jwt_issuer, -30).issue(
        uuid.UUID(video)
    )
    expired = await api.get(signed.replace(token, expired_token))
    assert (expired.status_code, expired.json()["error"]) == (403, "signed_url_expired")
    other = await new_video(api, owner, visibility="private")
    elsewhere = signed.replace(video, other)
    assert (await api.get(elsewhere)).json()["error"] == "signed_url_invalid"

"""Avatars through real media storage (a directory): uploaded, squared, re-encoded without any
metadata, served immutable; every bad upload refused with its reason."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from PIL import Image

from app.profiles.service import MAX_AVATAR_BYTES
from core.settings import Settings
from tests.app.profiles.helpers import (
    SVG_PLAIN,
    SVG_WITH_SCRIPT,
    animated_gif,
    jpeg_with_gps,
    member,
    picture,
    png_bomb,
    truncated_jpeg,
)

Client = AsyncTestClient[Any]


async def _upload(api: Client, who: Any, data: bytes, content_type: str = "image/jpeg") -> Any:
    return await api.put("/me/avatar", content=data, headers={**who.headers, "content-type": content_type})


def _storage_files(settings: Settings, user_id: object) -> list[Path]:
    root = Path(settings.storage_url.removeprefix("file://")) / "objects" / "avatars" / str(user_id)
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


async def test_served_avatars_carry_no_exif_gps_or_camera(api: Client, profile_settings: Settings) -> None:
    me = await member(profile_settings)
    source = jpeg_with_gps()
    assert Image.open(io.BytesIO(source)).getexif().get_ifd(0x8825)  # the upload has GPS
    response = await _upload(api, me, source)
    assert response.status_code == 200, response.text
    avatar = response.json()["avatar"]
    assert [image["size"] for image in avatar] == [64, 256]
    for image in avatar:
        served = await api.get(image["url"])
        assert served.status_code == 200
        assert served.headers["content-type"] == "image/webp"
        assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
        decoded = Image.open(io.BytesIO(served.content))
        assert (decoded.format, decoded.size) == ("WEBP", (image["size"], image["size"]))
        assert not decoded.getexif()
        assert "exif" not in decoded.info and "xmp" not in decoded.info and "icc_profile" not in decoded.info
        for secret in (b"Exif", b"CameraMakerXYZ", b"SecretModel", b"GPS"):
            assert secret not in served.content
    # The profile page names the same URLs.
    assert (await api.get(f"/users/{me.handle}")).json()["avatar"] == avatar


async def test_the_orientation_exif_asked_for_is_applied_before_it_is_dropped(
    api: Client, profile_settings: Settings
) -> None:
    """A phone's portrait photo is stored landscape with "rotate 90°" in EXIF: the avatar stands
    upright though EXIF is gone. The left half red, the right half blue; rotated, red is below."""
    source = Image.new("RGB", (200, 100), (255, 0, 0))
    source.paste((0, 0, 255), (100, 0, 200, 100))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    out = io.BytesIO()
    source.save(out, "JPEG", exif=exif.tobytes(), quality=95)
    me = await member(profile_settings)
    avatar = (await _upload(api, me, out.getvalue())).json()["avatar"]
    large = Image.open(io.BytesIO((await api.get(avatar[1]["url"])).content)).convert("RGB")
    top, bottom = large.getpixel((128, 20)), large.getpixel((128, 235))
    assert isinstance(top, tuple) and isinstance(bottom, tuple)
    assert top[0] > 200 and top[2] < 60  # red on top, once turned
    assert bottom[2] > 200 and bottom[0] < 60


async def test_a_cached_copy_is_revalidated_by_etag_and_head_has_no_body(
    api: Client, profile_settings: Settings
) -> None:
    me = await member(profile_settings)
    url = (await _upload(api, me, picture("PNG"), "image/png")).json()["avatar"][0]["url"]
    first = await api.get(url)
    again = await api.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    head = await api.head(url)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(first.content))


async def test_a_new_avatar_replaces_the_old_files_and_delete_removes_them(
    api: Client, profile_settings: Settings
) -> None:
    me = await member(profile_settings)
    old = (await _upload(api, me, picture("PNG", size=(50, 50)), "image/png")).json()["avatar"]
    new = (await _upload(api, me, picture("WEBP", size=(80, 60)), "image/webp")).json()["avatar"]
    assert old[0]["url"] != new[0]["url"]
    assert (await api.get(old[0]["url"])).status_code == 404
    assert (await api.get(new[0]["url"])).status_code == 200
    assert len(_storage_files(profile_settings, me.id)) == 2
    assert (await api.delete("/me/avatar", headers=me.headers)).status_code == 204
    assert (await api.get(new[1]["url"])).status_code == 404
    assert (await api.get("/me/profile", headers=me.headers)).json()["avatar"] is None
    assert _storage_files(profile_settings, me.id) == []
    assert (await api.delete("/me/avatar", headers=me.headers)).status_code == 204  # none: no change


async def test_the_same_picture_again_keeps_its_urls(api: Client, profile_settings: Settings) -> None:
    me = await member(profile_settings)
    data = picture("GIF", size=(60, 60), mode="L")
    first = (await _upload(api, me, data, "image/gif")).json()["avatar"]
    second = (await _upload(api, me, data, "image/gif")).json()["avatar"]
    assert first == second
    assert (await api.get(first[0]["url"])).status_code == 200


BAD_UPLOADS = [
    ("not an image", b"hello, this is plain text and no picture at all", "not_an_image"),
    ("a PDF", b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n", "not_an_image"),
    ("a BMP (not accepted)", picture("BMP"), "not_an_image"),
    ("empty", b"", "empty_upload"),
    ("SVG with script", SVG_WITH_SCRIPT, "avatar_svg_refused"),
    ("SVG without script", SVG_PLAIN, "avatar_svg_refused"),
    ("truncated JPEG", truncated_jpeg(), "avatar_damaged"),
    ("animated GIF", animated_gif(), "avatar_animated"),
]


@pytest.mark.parametrize(
    ("data", "reason"), [(d, r) for _, d, r in BAD_UPLOADS], ids=[n for n, _, _ in BAD_UPLOADS]
)
async def test_a_bad_upload_is_refused_with_its_reason(
    api: Client, profile_settings: Settings, data: bytes, reason: str
) -> None:
    me = await member(profile_settings)
    response = await _upload(api, me, data, "application/octet-stream")
    assert response.status_code == 422, response.text
    assert response.json()["error"] == reason
    assert (await api.get("/me/profile", headers=me.headers)).json()["avatar"] is None
    assert _storage_files(profile_settings, me.id) == []


async def test_a_decompression_bomb_is_refused_before_it_is_decoded(
    api: Client, profile_settings: Settings
) -> None:
    bomb = png_bomb(20_000, 20_000)  # 400 megapixels in about 50 kB
    assert len(bomb) < 100_000
    me = await member(profile_settings)
    response = await _upload(api, me, bomb, "image/png")
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "avatar_too_many_pixels"
    assert response.json()["details"] == {"max_pixels": 40_000_000}


async def test_a_50_megapixel_picture_is_refused(api: Client, profile_settings: Settings) -> None:
    """Under Pillow's own bomb threshold (89 MP), over ours (40 MP)."""
    me = await member(profile_settings)
    response = await _upload(api, me, png_bomb(10_000, 5_000), "image/png")
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "avatar_too_many_pixels"


async def test_an_upload_over_the_size_cap_is_refused(api: Client, profile_settings: Settings) -> None:
    me = await member(profile_settings)
    response = await _upload(api, me, b"\xff" * (MAX_AVATAR_BYTES + 1))
    assert response.status_code == 413, response.text
    assert response.json()["error"] == "avatar_too_large"
    assert response.json()["details"] == {"max_bytes": MAX_AVATAR_BYTES}


async def test_avatars_need_a_token_and_bad_urls_are_404(api: Client, profile_settings: Settings) -> None:
    me = await member(profile_settings)
    assert (await api.put("/me/avatar", content=picture())).status_code == 401
    assert (await api.delete("/me/avatar")).status_code == 401
    for path in (
        f"/avatars/{me.id}/{'0' * 32}/64.webp",  # nothing there
        f"/avatars/{me.id}/{'0' * 32}/65.webp",  # no such size
        f"/avatars/{me.id}/{'0' * 32}/64.webp.bak",
        f"/avatars/{me.id}/ABC/64.webp",
    ):
        response = await api.get(path)
        assert response.status_code == 404, path
        assert response.json()["error"] == "avatar_not_found"
    assert (await api.get(f"/avatars/{me.id}/..%2F..%2Fetc/64.webp")).status_code == 404


async def test_without_media_storage_there_are_no_avatar_endpoints_but_profiles_work(
    client: Client, settings: Settings
) -> None:
    me = await member(settings)
    assert (await client.put("/me/avatar", content=picture(), headers=me.headers)).status_code in (404, 405)
    assert (
        await client.patch("/me/profile", json={"display_name": "Ana"}, headers=me.headers)
    ).status_code == 200

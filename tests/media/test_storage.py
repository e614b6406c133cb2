"""One contract for every storage backend: a directory, and an S3 bucket on moto's server."""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aioboto3
import httpx
import pytest

from core.settings import SettingsError
from media.storage import FilesystemStorage, ObjectNotFound, Storage, StorageError, open_storage
from media.storage.s3 import S3Storage
from support.s3_server import ACCESS_KEY, REGION, SECRET_KEY, moto_server, storage_url
from tests.services import free_port

MiB = 1024 * 1024
PART_BYTES = 5 * MiB  # the least S3 accepts for every part but the last
PREFIX = "deployment/one"  # S3 keys go under it; the bucket's other keys are not ours


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with moto_server(tmp_path_factory.mktemp("moto")) as url:
        yield url


@pytest.fixture
async def raw_s3(endpoint: str) -> AsyncIterator[Any]:
    """A plain S3 client, to look behind the storage's back."""
    session = aioboto3.Session(
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name=REGION
    )
    async with session.client("s3", endpoint_url=endpoint) as client:
        yield client


async def new_bucket(endpoint: str, *, part_bytes: int = PART_BYTES) -> S3Storage:
    storage = open_storage(
        storage_url(endpoint, f"test-{uuid.uuid4().hex[:12]}", PREFIX), part_bytes=part_bytes
    )
    assert isinstance(storage, S3Storage)
    await storage.ensure_bucket()
    return storage


@pytest.fixture(params=["filesystem", "s3"])
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    if request.param == "filesystem":
        store: Storage = open_storage((tmp_path / "store").as_uri(), part_bytes=PART_BYTES)
    else:
        store = await new_bucket(request.getfixturevalue("endpoint"))
    yield store
    await store.close()


@pytest.fixture
def downloads(tmp_path: Path) -> Path:
    """An empty directory beside (not inside) the filesystem store's root."""
    (tmp_path / "downloads").mkdir()
    return tmp_path / "downloads"


async def read_all(storage: Storage, key: str, start: int = 0, end: int | None = None) -> bytes:
    return b"".join([chunk async for chunk in storage.read(key, start, end)])


def listing(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


def write_file(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


async def test_put_bytes_then_stat_and_read(storage: Storage) -> None:
    data = b"#EXTM3U\n#EXT-X-VERSION:7\n"
    info = await storage.put_bytes("videos/v1/master.m3u8", data, "application/vnd.apple.mpegurl")
    assert (info.key, info.size, info.content_type) == (
        "videos/v1/master.m3u8",
        len(data),
        "application/vnd.apple.mpegurl",
    )
    assert info.etag and '"' not in info.etag
    assert await storage.stat("videos/v1/master.m3u8") == info
    assert await read_all(storage, "videos/v1/master.m3u8") == data


async def test_put_file_keeps_a_content_type_the_key_does_not_suggest(
    storage: Storage, tmp_path: Path
) -> None:
    data = os.urandom(300_000)
    info = await storage.put_file("blobs/no-extension", write_file(tmp_path / "src", data), "video/mp2t")
    assert info.size == len(data) and info.content_type == "video/mp2t"
    assert await storage.stat("blobs/no-extension") == info
    assert await read_all(storage, "blobs/no-extension") == data


async def test_empty_object(storage: Storage) -> None:
    info = await storage.put_bytes("empty", b"", "text/plain")
    assert info.size == 0
    assert await storage.stat("empty") == info
    assert await read_all(storage, "empty") == b""
    assert await read_all(storage, "empty", 0, 10) == b""


async def test_read_ranges_are_byte_exact(storage: Storage) -> None:
    data = os.urandom(MiB + 12_345)
    size = len(data)
    await storage.put_bytes("segment.ts", data, "video/mp2t")
    for start, end in [
        (0, None),
        (1000, None),  # start only
        (70_000, 900_001),  # start and end
        (size - 1, size),  # the last byte
        (size - 1, None),
        (0, 1),  # the first byte
        (10, 10),  # nothing
        (size - 10, size + 1000),  # past the end: cut at the end, as a slice is
        (size, None),
        (size + 5, size + 10),
    ]:
        assert await read_all(storage, "segment.ts", start, end) == data[start:end], (start, end)


async def test_read_streams_in_bounded_chunks(storage: Storage) -> None:
    await storage.put_bytes("big", os.urandom(3 * MiB), "application/octet-stream")
    sizes = [len(chunk) async for chunk in storage.read("big")]
    assert sum(sizes) == 3 * MiB and len(sizes) > 1
    assert all(64 * 1024 <= size <= MiB for size in sizes[:-1]), sizes


async def test_a_missing_key(storage: Storage, downloads: Path) -> None:
    assert await storage.stat("nope/absent.ts") is None
    with pytest.raises(ObjectNotFound):
        await read_all(storage, "nope/absent.ts")
    with pytest.raises(ObjectNotFound):
        await read_all(storage, "nope/absent.ts", 3, 3)
    with pytest.raises(ObjectNotFound):
        await storage.download("nope/absent.ts", downloads / "out")
    assert listing(downloads) == []


async def test_a_key_below_an_object_is_missing(storage: Storage) -> None:
    await storage.put_bytes("file", b"x", "text/plain")
    assert await storage.stat("file/below") is None
    with pytest.raises(ObjectNotFound):
        await read_all(storage, "file/below")


async def test_download(storage: Storage, downloads: Path) -> None:
    data = os.urandom(2 * MiB + 7)
    await storage.put_bytes("videos/v1/source.mp4", data, "video/mp4")
    target = write_file(downloads / "source.mp4", b"an older download")
    await storage.download("videos/v1/source.mp4", target)
    assert target.read_bytes() == data
    assert listing(downloads) == ["source.mp4"]  # no partial download left over


async def test_overwrite_changes_the_etag(storage: Storage) -> None:
    first = await storage.put_bytes("poster.jpg", b"one", "image/jpeg")
    second = await storage.put_bytes("poster.jpg", b"two!", "image/png")
    assert second.etag != first.etag
    assert await storage.stat("poster.jpg") == second
    assert await read_all(storage, "poster.jpg") == b"two!"
    again = await storage.stat("poster.jpg")
    assert again is not None and again.etag == second.etag  # stable while unchanged


async def test_delete_prefix_deletes_only_that_prefix(storage: Storage) -> None:
    for key in ["v1/a.ts", "v1/hls/720p/0.ts", "v1/hls/720p/1.ts", "v10/a.ts", "v2/a.ts", "v1x"]:
        await storage.put_bytes(key, key.encode(), "video/mp2t")
    assert await storage.delete_prefix("v1/") == 3
    for key in ["v1/a.ts", "v1/hls/720p/0.ts", "v1/hls/720p/1.ts"]:
        assert await storage.stat(key) is None
    for key in ["v10/a.ts", "v2/a.ts", "v1x"]:
        assert await storage.stat(key) is not None
    assert await storage.delete_prefix("v1") == 2  # a plain string prefix: v10/a.ts and v1x
    assert await storage.stat("v2/a.ts") is not None
    assert await storage.delete_prefix("v1/") == 0
    await storage.put_bytes("v1/hls/720p/0.ts", b"again", "video/mp2t")  # its directory was pruned
    assert await read_all(storage, "v1/hls/720p/0.ts") == b"again"


async def test_keys_lists_exactly_that_prefix(storage: Storage) -> None:
    for key in ["k1/a.ts", "k1/hls/720p/0.ts", "k1/hls/720p/1.ts", "k10/a.ts", "k2/a.ts", "k1x"]:
        await storage.put_bytes(key, key.encode(), "video/mp2t")
    assert await storage.keys("k1/") == ["k1/a.ts", "k1/hls/720p/0.ts", "k1/hls/720p/1.ts"]
    assert await storage.keys("k1") == ["k1/a.ts", "k1/hls/720p/0.ts", "k1/hls/720p/1.ts", "k10/a.ts", "k1x"]
    assert await storage.keys("nothing/") == []
    await storage.delete_prefix("k1/")
    assert await storage.keys("k1/") == []


async def test_delete_prefix_past_one_page_of_keys(storage: Storage) -> None:
    """More keys than one list page (and one delete_objects call) holds."""
    keys = [f"many/{i:05d}" for i in range(1001)]
    limit = asyncio.Semaphore(32)

    async def put(key: str) -> None:
        async with limit:
            await storage.put_bytes(key, b"", "text/plain")

    await asyncio.gather(*(put(key) for key in keys))
    await storage.put_bytes("other", b"", "text/plain")
    assert await storage.delete_prefix("many/") == len(keys)
    assert await storage.stat(keys[-1]) is None and await storage.stat("other") is not None


async def test_a_file_larger_than_a_part(storage: Storage, tmp_path: Path) -> None:
    data = os.urandom(11 * MiB)
    info = await storage.put_file("videos/v1/source.mp4", write_file(tmp_path / "big.mp4", data), "video/mp4")
    assert info.size == len(data)
    assert await storage.stat("videos/v1/source.mp4") == info
    got = hashlib.sha256()
    async for chunk in storage.read("videos/v1/source.mp4"):
        got.update(chunk)
    assert got.digest() == hashlib.sha256(data).digest()
    if isinstance(storage, S3Storage):
        assert info.etag.endswith("-3")  # S3 (and moto) mark multipart ETags with the part count


async def test_put_file_of_a_missing_file_stores_nothing(storage: Storage, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        await storage.put_file("k", tmp_path / "absent", "text/plain")
    assert await storage.stat("k") is None


async def test_a_failed_multipart_upload_leaves_nothing_behind(
    endpoint: str, raw_s3: Any, tmp_path: Path
) -> None:
    """Parts under 5 MiB upload fine but S3 refuses to assemble them (EntityTooSmall): the
    upload fails after parts exist, and must be aborted."""
    storage = await new_bucket(endpoint, part_bytes=MiB)
    try:
        source = write_file(tmp_path / "src", os.urandom(3 * MiB + 1))
        with pytest.raises(StorageError, match="EntityTooSmall"):
            await storage.put_file("videos/v1/source.mp4", source, "video/mp4")
        assert await storage.stat("videos/v1/source.mp4") is None
        uploads = await raw_s3.list_multipart_uploads(Bucket=storage.bucket)
        assert uploads.get("Uploads", []) == []
    finally:
        await storage.close()


async def test_s3_keys_live_under_the_url_prefix(endpoint: str, raw_s3: Any) -> None:
    storage = await new_bucket(endpoint)
    try:
        await storage.put_bytes("a/b", b"x", "text/plain")
        listed = await raw_s3.list_objects_v2(Bucket=storage.bucket)
        assert [item["Key"] for item in listed["Contents"]] == [f"{PREFIX}/a/b"]
    finally:
        await storage.close()


@pytest.mark.parametrize("key", ["", "/abs", "..", "a/../b", "a\\b", "a\0b", "a//b", "./a", "a/.", "a/"])
async def test_invalid_keys_are_refused(storage: Storage, key: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        await storage.put_bytes(key, b"x", "text/plain")
    with pytest.raises(ValueError):
        await storage.put_file(key, write_file(tmp_path / "src", b"x"), "text/plain")
    with pytest.raises(ValueError):
        await storage.stat(key)
    with pytest.raises(ValueError):
        storage.read(key)
    with pytest.raises(ValueError):
        await storage.download(key, tmp_path / "out")
    with pytest.raises(ValueError):
        await storage.presigned_url(key, 60)
    if key != "a/":  # a valid prefix
        with pytest.raises(ValueError):
            await storage.delete_prefix(key)


async def test_invalid_ranges_are_refused(storage: Storage) -> None:
    with pytest.raises(ValueError):
        storage.read("k", -1)
    with pytest.raises(ValueError):
        storage.read("k", 10, 5)


async def test_presigned_url(storage: Storage) -> None:
    data = os.urandom(1000)
    await storage.put_bytes("videos/v1/poster.jpg", data, "image/jpeg")
    url = await storage.presigned_url("videos/v1/poster.jpg", 60)
    if isinstance(storage, FilesystemStorage):
        assert url is None
        return
    assert url is not None
    async with httpx.AsyncClient() as http:
        response = await http.get(url)
    assert response.status_code == 200 and response.content == data
    assert response.headers["content-type"] == "image/jpeg"


async def test_ping(storage: Storage) -> None:
    await storage.put_bytes("k", b"x", "text/plain")
    await storage.ping()


async def test_ping_fails_for_an_unreachable_endpoint() -> None:
    url = f"s3://{ACCESS_KEY}:{SECRET_KEY}@bucket?endpoint_url=http://127.0.0.1:{free_port()}&region={REGION}"
    storage = open_storage(url)
    try:
        with pytest.raises(StorageError, match=r"127\.0\.0\.1"):
            await storage.ping()
    finally:
        await storage.close()


async def test_ping_fails_for_a_missing_bucket(endpoint: str) -> None:
    storage = open_storage(storage_url(endpoint, "never-created"))
    try:
        with pytest.raises(StorageError, match="never-created"):
            await storage.ping()
    finally:
        await storage.close()


async def test_ping_fails_for_a_missing_root_until_the_first_write(tmp_path: Path) -> None:
    """Opening a directory store creates nothing, so a missing root (an unmounted volume, say)
    shows in the readiness probe; the first write creates it."""
    storage = open_storage((tmp_path / "absent").as_uri())
    with pytest.raises(StorageError, match="not a directory"):
        await storage.ping()
    await storage.put_bytes("a/b", b"x", "text/plain")
    await storage.ping()


async def test_a_file_without_its_sidecar_still_has_a_validator(tmp_path: Path) -> None:
    """After a crash between the data's rename and the sidecar's, the sidecar describes another
    file: stat then derives the etag from the file itself and the type from the extension."""
    storage = FilesystemStorage(tmp_path)
    old = await storage.put_bytes("v/index.m3u8", b"old", "text/plain")
    write_file(tmp_path / "objects" / "v" / "index.m3u8", b"new bytes")
    info = await storage.stat("v/index.m3u8")
    assert info is not None
    assert (info.size, info.content_type) == (9, "application/vnd.apple.mpegurl")
    assert info.etag != old.etag
    assert await storage.stat("v/index.m3u8") == info


@pytest.mark.parametrize(
    "url",
    [
        "ftp://host/media",
        "file://host/media",
        "file:relative",
        "s3:///no-bucket",
        "s3://bucket?endpoint=http://x",
        "s3://bucket/a/../b",
    ],
)
def test_bad_urls_name_the_setting(url: str) -> None:
    with pytest.raises(SettingsError, match="MYDRTV_STORAGE_URL"):
        open_storage(url)


def test_urls_pick_the_backend(tmp_path: Path) -> None:
    assert isinstance(open_storage(tmp_path.as_uri()), FilesystemStorage)
    storage = open_storage(
        "s3://AK:se%2Fcret@my-bucket/media/?endpoint_url=http://127.0.0.1:9000&region=eu-north-1"
    )
    assert isinstance(storage, S3Storage)
    assert (storage.bucket, storage.prefix) == ("my-bucket", "media/")


async def test_a_directory_store_cannot_hold_an_object_and_keys_below_it(tmp_path: Path) -> None:
    """S3 can (``a`` and ``a/b``); a filesystem cannot, and says so instead of losing data."""
    storage = FilesystemStorage(tmp_path)
    await storage.put_bytes("a", b"x", "text/plain")
    with pytest.raises(StorageError):
        await storage.put_bytes("a/b", b"y", "text/plain")
    assert await read_all(storage, "a") == b"x"

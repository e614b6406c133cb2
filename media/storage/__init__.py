"""Object storage behind one interface: a local directory or an S3 bucket, chosen by URL."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from core.settings import SettingsError
from media.storage.base import ObjectInfo, ObjectNotFound, Storage, StorageError, check_key
from media.storage.filesystem import FilesystemStorage

__all__ = [
    "SCHEMES",
    "FilesystemStorage",
    "ObjectInfo",
    "ObjectNotFound",
    "Storage",
    "StorageError",
    "open_storage",
]

SCHEMES = ("file", "s3")
_S3_OPTIONS = {"endpoint_url", "region"}


def open_storage(url: str, *, part_bytes: int = 8 * 1024 * 1024) -> Storage:
    """The backend ``url`` names; nothing is contacted or created until it is used.

    ``file:///abs/path``, or ``s3://[KEY:SECRET@]bucket[/prefix][?endpoint_url=...&region=...]``
    (without KEY:SECRET, credentials come from the AWS environment variables and config files).
    """
    parts = urlsplit(url)
    if parts.scheme == "file":
        path = unquote(parts.path)
        if parts.netloc not in ("", "localhost") or not path.startswith("/"):
            raise SettingsError(
                f"MYDRTV_STORAGE_URL: {url!r} does not name an absolute path (file:///srv/media)"
            )
        return FilesystemStorage(Path(path))
    if parts.scheme == "s3":
        return _s3(url, part_bytes)
    raise SettingsError(f"MYDRTV_STORAGE_URL: unsupported scheme {parts.scheme!r}; use {SCHEMES}")


def _s3(url: str, part_bytes: int) -> Storage:
    from media.storage.s3 import S3Storage  # aioboto3 takes a while to import; only S3 users pay

    parts = urlsplit(url)
    bucket = parts.netloc.rpartition("@")[2]
    options = parse_qs(parts.query)
    if not bucket or options.keys() - _S3_OPTIONS:
        raise SettingsError(
            f"MYDRTV_STORAGE_URL: expected s3://[KEY:SECRET@]bucket[/prefix][?{'&'.join(sorted(_S3_OPTIONS))}]"
        )
    prefix = unquote(parts.path).strip("/")
    if prefix:
        try:
            prefix = check_key(prefix) + "/"
        except ValueError as exc:
            raise SettingsError(f"MYDRTV_STORAGE_URL: bad prefix: {exc}") from exc
    return S3Storage(
        bucket,
        prefix,
        endpoint_url=options.get("endpoint_url", [None])[-1],
        region=options.get("region", [None])[-1],
        access_key=unquote(parts.username) if parts.username else None,
        secret_key=unquote(parts.password) if parts.password is not None else None,
        part_bytes=part_bytes,
    )

"""What every object store does: keep bytes under '/'-separated keys, with a size, an etag and a
content type, and hand them back whole or by byte range.

The media code knows only this interface, so a deployment picks a directory or an S3 bucket by
URL alone (``media.storage.open_storage``), and one contract suite tests both.
"""

from __future__ import annotations

import asyncio
import contextlib
import mimetypes
import os
import uuid
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec

CHUNK_BYTES = 1024 * 1024  # what ``read`` yields at a time (the last chunk may be shorter)


class ObjectInfo(msgspec.Struct, frozen=True):
    key: str
    size: int
    etag: str  # a strong validator without the quotes, e.g. 'a1b2c3'; stable while the object is unchanged
    content_type: str


class StorageError(Exception):
    """The backend failed: unreachable, refused, out of space."""


class ObjectNotFound(StorageError):
    """No object has this key."""


def check_key(key: str) -> str:
    """``key`` if it is a relative '/'-separated path that cannot leave the store's root.

    Empty and '.' segments are refused as well as '..': a filesystem would fold ``a//b`` and
    ``a/./b`` into ``a/b`` while S3 keeps them apart, and the two backends must agree.
    """
    if not key or "\\" in key or "\0" in key or key.startswith("/"):
        raise ValueError(f"invalid storage key {key!r}")
    if any(segment in ("", ".", "..") for segment in key.split("/")):
        raise ValueError(f"invalid storage key {key!r}: empty, '.' or '..' segment")
    return key


def check_prefix(prefix: str) -> str:
    """``prefix`` if it is a valid key or a valid key followed by '/'; never empty, so that no
    slip of an empty id turns ``delete_prefix`` into "delete everything"."""
    check_key(prefix.removesuffix("/"))
    return prefix


def check_range(start: int, end: int | None) -> None:
    if start < 0 or (end is not None and end < start):
        raise ValueError(f"invalid byte range [{start}, {end})")


class Storage(ABC):
    """An object store. ``read`` yields ``data[start:end]`` (a range past the end yields nothing)."""

    @abstractmethod
    async def put_file(self, key: str, path: Path, content_type: str) -> ObjectInfo:
        """Store the file at ``path``; readers see the old object or the new one, never a part."""

    @abstractmethod
    async def put_bytes(self, key: str, data: bytes, content_type: str) -> ObjectInfo: ...

    @abstractmethod
    async def stat(self, key: str) -> ObjectInfo | None: ...

    @abstractmethod
    def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """Bytes ``[start, end)`` in chunks; ``ObjectNotFound`` (on first iteration) if absent."""

    async def download(self, key: str, path: Path) -> None:
        """Stream the object to ``path``, which is replaced only once the whole object is there."""
        partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
        file = await asyncio.to_thread(open, partial, "wb")
        try:
            try:
                async for chunk in self.read(key):
                    await asyncio.to_thread(file.write, chunk)
            finally:
                await asyncio.to_thread(file.close)
            await asyncio.to_thread(os.replace, partial, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()
            raise

    @abstractmethod
    async def delete_prefix(self, prefix: str) -> int:
        """Delete every object whose key starts with ``prefix``; how many there were."""

    @abstractmethod
    async def keys(self, prefix: str) -> list[str]:
        """Every key that starts with ``prefix`` (sorted): what a privacy audit or export lists."""

    @abstractmethod
    async def presigned_url(self, key: str, expires_seconds: int) -> str | None:
        """A URL a client may GET the object from directly, or None if the backend has none."""

    @abstractmethod
    async def ping(self) -> None:
        """Raise ``StorageError`` saying why if the backend cannot be used now."""

    @abstractmethod
    async def close(self) -> None: ...


# Types mimetypes does not know (or knows differently on some systems) that HLS/DASH need.
CONTENT_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".ts": "video/mp2t",
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
    ".jpg": "image/jpeg",
}


def guess_content_type(key: str) -> str:
    suffix = os.path.splitext(key)[1].lower()
    return CONTENT_TYPES.get(suffix) or mimetypes.guess_type(key)[0] or "application/octet-stream"

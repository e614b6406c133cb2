"""Objects as files under one directory, for development and single-host deployments.

Layout under the root: ``objects/<key>`` holds the bytes, ``meta/<key>`` a small JSON sidecar
(content type and the MD5 of the content, computed while writing), ``tmp/`` files being written.
A write lands in ``tmp/``, is fsynced, then moved into place with ``os.replace``: readers see the
old object or the new one, never a part. The sidecar records the inode, size and mtime of the file
it describes; if it does not match (a crash, or a reader, between the two renames), the etag is
derived from the file's own (size, mtime, inode) and the content type from the key's extension,
so a stale etag is never served for new bytes.

Unlike S3, a key cannot be both an object and a "directory" (``a`` and ``a/b``); such a put fails
with ``StorageError``. Every blocking call runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import stat
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import BinaryIO

import msgspec

from media.storage.base import (
    CHUNK_BYTES,
    ObjectInfo,
    ObjectNotFound,
    Storage,
    StorageError,
    check_key,
    check_prefix,
    check_range,
    guess_content_type,
)

_MISSING = (FileNotFoundError, NotADirectoryError)


class _Meta(msgspec.Struct, frozen=True):
    etag: str
    content_type: str
    size: int
    inode: int
    mtime_ns: int


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _move(source: Path, target: Path) -> None:
    """``os.replace`` into a directory made on demand (``delete_prefix`` may remove it meanwhile)."""
    for attempt in range(3):
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(source, target)
            break
        except FileNotFoundError:
            if attempt == 2 or not source.exists():
                raise
    _fsync_dir(target.parent)


class FilesystemStorage(Storage):
    """Constructing it touches nothing, so ``ping`` can still report a root that is missing
    (an unmounted volume); the first write creates the root and whatever directories it needs."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._objects = root / "objects"
        self._meta = root / "meta"
        self._tmp = root / "tmp"

    async def put_file(self, key: str, path: Path, content_type: str) -> ObjectInfo:
        check_key(key)
        return await asyncio.to_thread(self._put_file, key, path, content_type)

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> ObjectInfo:
        check_key(key)
        return await asyncio.to_thread(self._store, key, content_type, lambda write: write(data))

    async def stat(self, key: str) -> ObjectInfo | None:
        check_key(key)
        return await asyncio.to_thread(self._stat, key)

    def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        check_key(key)
        check_range(start, end)
        return self._read(key, start, end)

    async def delete_prefix(self, prefix: str) -> int:
        check_prefix(prefix)
        return await asyncio.to_thread(self._delete_prefix, prefix)

    async def keys(self, prefix: str) -> list[str]:
        check_prefix(prefix)
        return await asyncio.to_thread(self._keys, prefix)

    def _keys(self, prefix: str) -> list[str]:
        parent, _, start = prefix.rpartition("/")
        found: list[str] = []
        top = self._objects / parent
        try:
            entries = [e for e in os.scandir(top) if e.name.startswith(start)]
        except _MISSING:
            return []
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                for directory, _, files in os.walk(entry.path):
                    rel = Path(directory).relative_to(self._objects).as_posix()
                    found += [f"{rel}/{name}" for name in files]
            else:
                found.append(f"{parent}/{entry.name}" if parent else entry.name)
        return sorted(found)

    async def presigned_url(self, key: str, expires_seconds: int) -> str | None:
        check_key(key)
        return None

    async def ping(self) -> None:
        await asyncio.to_thread(self._check)

    async def close(self) -> None:
        return None

    def _check(self) -> None:
        if not self.root.is_dir():
            raise StorageError(f"{self.root} is not a directory")
        if not os.access(self.root, os.W_OK):
            raise StorageError(f"{self.root} is not writable")

    def _put_file(self, key: str, path: Path, content_type: str) -> ObjectInfo:
        with open(path, "rb") as source:  # the caller's file: its errors are the caller's

            def copy(write: Callable[[bytes], None]) -> None:
                while chunk := source.read(CHUNK_BYTES):
                    write(chunk)

            return self._store(key, content_type, copy)

    def _store(
        self, key: str, content_type: str, fill: Callable[[Callable[[bytes], None]], None]
    ) -> ObjectInfo:
        data_tmp = self._tmp / uuid.uuid4().hex
        meta_tmp = data_tmp.with_suffix(".meta")
        try:
            self._tmp.mkdir(parents=True, exist_ok=True)
            try:
                digest = hashlib.md5(usedforsecurity=False)
                with open(data_tmp, "xb") as out:

                    def write(chunk: bytes) -> None:
                        digest.update(chunk)
                        out.write(chunk)

                    fill(write)
                    out.flush()
                    os.fsync(out.fileno())
                    st = os.fstat(out.fileno())
                meta = _Meta(digest.hexdigest(), content_type, st.st_size, st.st_ino, st.st_mtime_ns)
                with open(meta_tmp, "xb") as out:
                    out.write(msgspec.json.encode(meta))
                    out.flush()
                    os.fsync(out.fileno())
                _move(data_tmp, self._objects / key)
                _move(meta_tmp, self._meta / key)
            finally:
                data_tmp.unlink(missing_ok=True)
                meta_tmp.unlink(missing_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot store {key!r}: {exc}") from exc
        return ObjectInfo(key, meta.size, meta.etag, content_type)

    def _stat(self, key: str) -> ObjectInfo | None:
        try:
            st = os.stat(self._objects / key)
            if not stat.S_ISREG(st.st_mode):
                return None
            try:
                meta: _Meta | None = msgspec.json.decode((self._meta / key).read_bytes(), type=_Meta)
            except (*_MISSING, msgspec.DecodeError):
                meta = None
        except _MISSING:
            return None
        except OSError as exc:
            raise StorageError(f"cannot stat {key!r}: {exc}") from exc
        if meta is not None and (meta.inode, meta.size, meta.mtime_ns) == (
            st.st_ino,
            st.st_size,
            st.st_mtime_ns,
        ):
            return ObjectInfo(key, meta.size, meta.etag, meta.content_type)
        derived = hashlib.md5(f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}".encode(), usedforsecurity=False)
        return ObjectInfo(key, st.st_size, derived.hexdigest(), guess_content_type(key))

    def _open(self, key: str) -> BinaryIO:
        try:
            return open(self._objects / key, "rb")
        except (*_MISSING, IsADirectoryError) as exc:
            raise ObjectNotFound(key) from exc
        except OSError as exc:
            raise StorageError(f"cannot read {key!r}: {exc}") from exc

    async def _read(self, key: str, start: int, end: int | None) -> AsyncIterator[bytes]:
        # Every hop to a worker thread costs more than a small read: open, seek and the first
        # chunk share one, so a player's range request is a single hop.
        left = end - start if end is not None else None

        def size() -> int:
            return CHUNK_BYTES if left is None else min(left, CHUNK_BYTES)

        def open_at() -> tuple[BinaryIO, bytes]:
            file = self._open(key)
            try:
                file.seek(start)
                return file, file.read(size())
            except BaseException:
                file.close()
                raise

        file, chunk = await asyncio.to_thread(open_at)
        try:
            while chunk:
                if left is not None:
                    left -= len(chunk)
                yield chunk
                if left == 0:
                    return
                chunk = await asyncio.to_thread(file.read, size())
        finally:
            file.close()  # a read-only regular file: closing does not wait on the disk

    def _delete_prefix(self, prefix: str) -> int:
        parent, _, start = prefix.rpartition("/")
        try:
            try:
                entries = list(os.scandir(self._objects / parent))
            except _MISSING:
                return 0
            count = 0
            for entry in entries:
                if entry.name.startswith(start):
                    key = f"{parent}/{entry.name}" if parent else entry.name
                    count += (
                        self._delete_tree(key) if entry.is_dir(follow_symlinks=False) else self._delete(key)
                    )
            self._prune(parent)
        except OSError as exc:
            raise StorageError(f"cannot delete {prefix!r}: {exc}") from exc
        return count

    def _delete(self, key: str) -> int:
        try:
            os.unlink(self._objects / key)
        except FileNotFoundError:
            return 0  # deleted meanwhile by someone else
        (self._meta / key).unlink(missing_ok=True)
        return 1

    def _delete_tree(self, key: str) -> int:
        count = 0
        for directory, _, files in os.walk(self._objects / key, topdown=False):
            relative = Path(directory).relative_to(self._objects)
            count += sum(self._delete(f"{relative.as_posix()}/{name}") for name in files)
            self._rmdir(relative.as_posix())
        return count

    def _prune(self, directory: str) -> None:
        """Remove the now empty directories from ``directory`` up to (not including) the root."""
        while directory:
            self._rmdir(directory)
            directory = directory.rpartition("/")[0]

    def _rmdir(self, directory: str) -> None:
        for tree in (self._objects, self._meta):
            with contextlib.suppress(OSError):  # not empty (a concurrent put, an orphan sidecar)
                os.rmdir(tree / directory)

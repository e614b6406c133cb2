"""Objects in an S3 bucket (AWS, MinIO, or any store speaking the S3 API), through aioboto3.

One client is opened on first use and kept until ``close``. Large files go up in parts so that
neither memory nor one request has to hold the whole file; a multipart upload that fails for any
reason is aborted, because S3 keeps (and bills) the parts of an unfinished upload forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any, BinaryIO

import aioboto3
from aiobotocore.config import AioConfig  # type: ignore[import-untyped]
from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

from media.storage.base import (
    CHUNK_BYTES,
    ObjectInfo,
    ObjectNotFound,
    Storage,
    StorageError,
    check_key,
    check_prefix,
    check_range,
)


def _code(exc: Any) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


@contextlib.contextmanager
def _errors(what: str) -> Iterator[None]:
    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        raise StorageError(f"{what}: {exc}") from exc


class S3Storage(Storage):
    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        part_bytes: int = 8 * 1024 * 1024,
    ) -> None:
        """``prefix`` ('' or ending in '/') is put before every key; credentials left out come
        from the usual AWS chain (environment, config files, instance roles)."""
        self.bucket = bucket
        self.prefix = prefix
        self.part_bytes = part_bytes  # S3 wants at least 5 MiB in every part but the last
        self._session = aioboto3.Session(
            aws_access_key_id=access_key, aws_secret_access_key=secret_key, region_name=region
        )
        self._config = AioConfig(
            signature_version="s3v4",
            # Self-hosted endpoints rarely have a DNS name per bucket.
            s3={"addressing_style": "path" if endpoint_url else "auto"},
            connect_timeout=5,
            read_timeout=60,
            retries={"mode": "standard", "max_attempts": 3},
        )
        self._endpoint_url = endpoint_url
        self._client: Any = None
        self._stack: AsyncExitStack | None = None
        self._lock = asyncio.Lock()

    async def _s3(self) -> Any:
        async with self._lock:
            if self._client is None:
                stack = AsyncExitStack()
                client = self._session.client("s3", endpoint_url=self._endpoint_url, config=self._config)
                self._client = await stack.enter_async_context(client)
                self._stack = stack
            return self._client

    async def close(self) -> None:
        async with self._lock:
            if self._stack is not None:
                await self._stack.aclose()
            self._client = self._stack = None

    async def ensure_bucket(self) -> None:
        """Create the bucket if it is missing: for tests and the development stack, where no one
        else provisions it."""
        s3 = await self._s3()
        with _errors(f"cannot create bucket {self.bucket!r}"):
            try:
                await s3.head_bucket(Bucket=self.bucket)
                return
            except ClientError as exc:
                if _code(exc) not in ("404", "NoSuchBucket"):
                    raise
            region = s3.meta.region_name
            where = {"CreateBucketConfiguration": {"LocationConstraint": region}}
            try:
                await s3.create_bucket(
                    Bucket=self.bucket, **(where if region and region != "us-east-1" else {})
                )
            except ClientError as exc:
                if _code(exc) != "BucketAlreadyOwnedByYou":
                    raise

    async def ping(self) -> None:
        s3 = await self._s3()
        with _errors(f"bucket {self.bucket!r}"):
            await s3.head_bucket(Bucket=self.bucket)

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> ObjectInfo:
        check_key(key)
        s3 = await self._s3()
        with _errors(f"cannot store {key!r}"):
            done = await s3.put_object(
                Bucket=self.bucket, Key=self.prefix + key, Body=data, ContentType=content_type
            )
        return ObjectInfo(key, len(data), done["ETag"].strip('"'), content_type)

    async def put_file(self, key: str, path: Path, content_type: str) -> ObjectInfo:
        check_key(key)
        with await asyncio.to_thread(open, path, "rb") as file:
            size = (await asyncio.to_thread(os.fstat, file.fileno())).st_size
            if size <= self.part_bytes:
                return await self.put_bytes(key, await asyncio.to_thread(file.read), content_type)
            return await self._put_parts(key, file, size, content_type)

    async def _put_parts(self, key: str, file: BinaryIO, size: int, content_type: str) -> ObjectInfo:
        s3 = await self._s3()
        where = {"Bucket": self.bucket, "Key": self.prefix + key}
        with _errors(f"cannot store {key!r}"):
            upload = await s3.create_multipart_upload(**where, ContentType=content_type)
            where["UploadId"] = upload["UploadId"]
            try:
                parts: list[dict[str, Any]] = []
                sent = 0
                while chunk := await asyncio.to_thread(file.read, self.part_bytes):
                    part = await s3.upload_part(**where, PartNumber=len(parts) + 1, Body=chunk)
                    parts.append({"PartNumber": len(parts) + 1, "ETag": part["ETag"]})
                    sent += len(chunk)
                if sent != size:
                    raise StorageError(f"cannot store {key!r}: the file changed size while it was sent")
                done = await s3.complete_multipart_upload(**where, MultipartUpload={"Parts": parts})
            except BaseException:
                # Shielded: a cancelled upload must still be aborted.
                with contextlib.suppress(ClientError, BotoCoreError):
                    await asyncio.shield(s3.abort_multipart_upload(**where))
                raise
        return ObjectInfo(key, sent, done["ETag"].strip('"'), content_type)

    async def stat(self, key: str) -> ObjectInfo | None:
        check_key(key)
        s3 = await self._s3()
        with _errors(f"cannot stat {key!r}"):
            try:
                head = await s3.head_object(Bucket=self.bucket, Key=self.prefix + key)
            except ClientError as exc:
                if _code(exc) in ("404", "NoSuchKey"):
                    return None
                raise
        return ObjectInfo(key, head["ContentLength"], head["ETag"].strip('"'), head["ContentType"])

    def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        check_key(key)
        check_range(start, end)
        return self._read(key, start, end)

    async def _read(self, key: str, start: int, end: int | None) -> AsyncIterator[bytes]:
        if end == start:  # S3 has no empty range: without this it would send the whole object
            if await self.stat(key) is None:
                raise ObjectNotFound(key)
            return
        ranged = {"Range": f"bytes={start}-{'' if end is None else end - 1}"} if start or end else {}
        s3 = await self._s3()
        with _errors(f"cannot read {key!r}"):
            try:
                response = await s3.get_object(Bucket=self.bucket, Key=self.prefix + key, **ranged)
            except ClientError as exc:
                if _code(exc) in ("NoSuchKey", "404"):
                    raise ObjectNotFound(key) from exc
                if _code(exc) == "InvalidRange":  # starts past the end: nothing, as a slice would
                    return
                raise
            body = response["Body"]
            async with body:
                # The network hands over whatever has arrived; gather it into chunks worth a
                # context switch downstream.
                buffer = bytearray()
                while chunk := await body.read(CHUNK_BYTES - len(buffer)):
                    buffer += chunk
                    if len(buffer) >= CHUNK_BYTES:
                        yield bytes(buffer)
                        buffer.clear()
                if buffer:
                    yield bytes(buffer)

    async def delete_prefix(self, prefix: str) -> int:
        check_prefix(prefix)
        s3 = await self._s3()
        count = 0
        with _errors(f"cannot delete {prefix!r}"):
            pages = s3.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.prefix + prefix
            )
            async for page in pages:
                # A page holds at most 1000 keys, which is all one delete_objects call may take.
                batch = [{"Key": item["Key"]} for item in page.get("Contents", [])]
                if not batch:
                    continue
                done = await s3.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
                if failed := done.get("Errors"):
                    raise StorageError(f"cannot delete {len(failed)} objects under {prefix!r}: {failed[0]}")
                count += len(batch)
        return count

    async def keys(self, prefix: str) -> list[str]:
        check_prefix(prefix)
        s3 = await self._s3()
        found: list[str] = []
        with _errors(f"cannot list {prefix!r}"):
            pages = s3.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.prefix + prefix
            )
            async for page in pages:
                found += [item["Key"].removeprefix(self.prefix) for item in page.get("Contents", [])]
        return sorted(found)

    async def presigned_url(self, key: str, expires_seconds: int) -> str | None:
        check_key(key)
        s3 = await self._s3()
        with _errors(f"cannot sign {key!r}"):
            url: str = await s3.generate_presigned_url(
                "get_object",
                Params={"Bucket": self.bucket, "Key": self.prefix + key},
                ExpiresIn=expires_seconds,
            )
        return url

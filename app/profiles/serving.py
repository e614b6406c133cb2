"""Serving avatar images from media storage, as video segments are served.

An avatar URL names its content (``/avatars/{user_id}/{digest}/{size}.webp``), so its bytes never
change: it is public and cached for a year as immutable, with a strong ETag. With S3 and
``media_redirect`` on, the answer is a redirect to a presigned S3 URL instead.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from litestar import Response
from litestar.response import Redirect, Stream

from app.profiles.avatars import SIZES
from app.profiles.service import avatar_key
from core.errors import NotFound
from media.storage.base import Storage

IMMUTABLE = "public, max-age=31536000, immutable"
_DIGEST = re.compile(r"[0-9a-f]{32}")
_NAMES = {f"{size}.webp": size for size in SIZES}


class AvatarFiles:
    def __init__(self, storage: Storage, *, redirect: bool) -> None:
        self._storage = storage
        self._redirect = redirect

    async def serve(
        self, user_id: uuid.UUID, digest: str, name: str, headers: Any, *, head: bool = False
    ) -> Response[Any]:
        size = _NAMES.get(name)
        if size is None or not _DIGEST.fullmatch(digest):
            raise NotFound("no such avatar", code="avatar_not_found")
        key = avatar_key(user_id, digest, size)
        info = await self._storage.stat(key)
        if info is None:  # replaced or removed since: its files are gone
            raise NotFound("no such avatar", code="avatar_not_found")
        common = {"ETag": f'"{info.etag}"', "Cache-Control": IMMUTABLE}
        tags = {tag.strip().removeprefix("W/") for tag in headers.get("if-none-match", "").split(",")}
        if "*" in tags or f'"{info.etag}"' in tags:
            return Response(content=None, status_code=304, headers=common)
        if self._redirect:
            url = await self._storage.presigned_url(key, 3600)
            if url is not None:
                return Redirect(url, status_code=302, headers={"Cache-Control": "private, max-age=60"})
        sent = {**common, "Content-Type": info.content_type, "Content-Length": str(info.size)}
        if head:
            return Response(content=None, status_code=200, headers=sent)
        return Stream(self._storage.read(key), status_code=200, headers=sent)

"""Serving a video's HLS: playlists, segments and posters, straight from storage.

URLs name the generation (``/media/{video_id}/{generation}/...``), so everything under one URL
never changes: segments and playlists alike are cached for a year as immutable, and a new upload
gets new URLs. Only the current and the previous generation are served; a generation still being
written is in neither, so nothing half-written is ever served.

Public and unlisted videos are open to all. A private video's media needs a signed URL
(``/media/t/{token}/...``, see ``media.signing``) from ``GET /videos/{id}/playback``, which checks
who may watch. With ``media_secure_link_secret``, playback hands out links nginx checks itself
(``/media/l/{signature}/{expires}/...``, see ``media.secure_links``) for every video, public or
not: behind nginx no file request reaches a server; without nginx, they are checked here.

With S3 and ``media_redirect`` on, segments and posters are answered with a redirect to a
presigned S3 URL; playlists are always served here, so their relative URLs keep pointing at this
server. With ``media_accel_redirect`` (filesystem storage behind nginx), every
file is authorized here and sent by nginx: the answer is an empty one naming the file in
X-Accel-Redirect, and nginx adds the bytes, ranges and validators.

Where a video's media is (its generations, whether it is private) is cached per process for
``cache_seconds``, and only while the video's change stamp (``app.videos.stamps``) is unchanged:
a visibility change or a deletion on any instance takes effect on every instance at once. Without
Redis to read the stamp from, nothing is cached.
"""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar import Response
from litestar.response import Redirect, Stream

from app.videos.media.worker import hls_prefix
from app.videos.service import VideoService
from app.videos.stamps import ChangeStamps
from core.db import Database
from core.errors import Conflict, DomainError, Forbidden, NotFound
from core.tokens import Principal
from media.ranges import RangeNotSatisfiable, parse_range
from media.secure_links import SecureLinks
from media.signing import MediaTokens
from media.storage.base import ObjectInfo, Storage, guess_content_type

IMMUTABLE = "public, max-age=31536000, immutable"
# A secure link's bytes never change either, but are for whoever was handed the link: only the
# viewer's own cache keeps them (nginx sends the same header, deploy/nginx/mydrtv.conf).
SECURE_LINK_CACHE = "private, max-age=31536000, immutable"
# Set by nginx (deploy/nginx/mydrtv.conf) on the subrequest that asks whether a file may be sent.
AUTHORIZE_HEADER = "x-mydrtv-authorize"
# A generation holds files like ``master.m3u8``, ``240p/index.m3u8``, ``240p/seg_00001.ts``: each
# segment of a name starts with a letter, digit, ``_`` or ``-``. Anything else (``.``, ``..``,
# backslashes, NUL, empty segments) names nothing there, whatever the storage would make of it.
_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*(?:/[A-Za-z0-9_-][A-Za-z0-9._-]*)*")
PRESIGNED_SECONDS = 3600  # how long a presigned S3 URL of public media works
_INFO_CACHE_SIZE = 100_000  # files whose size, ETag and type are kept (about 200 bytes each)


class Playback(msgspec.Struct):
    video_id: uuid.UUID
    master_url: str  # an HLS master playlist; relative URLs inside it resolve against this one
    poster_url: str
    expires_at: datetime | None  # signed URLs (private videos, or all with secure links) stop then; ask again


class _Where(msgspec.Struct, frozen=True):
    private: bool
    generations: tuple[str, ...]  # the ones served: current first, then the previous


class MediaServer:
    def __init__(
        self,
        db: Database,
        storage: Storage,
        videos: VideoService,
        tokens: MediaTokens,
        *,
        redirect: bool,
        accel_prefix: str = "",
        cache_seconds: float = 2.0,
        stamps: ChangeStamps | None = None,
        links: SecureLinks | None = None,
    ) -> None:
        self._db = db
        self._storage = storage
        self._videos = videos
        self._tokens = tokens
        self._redirect = redirect
        self._accel_prefix = accel_prefix
        self._links = links
        self._cache_seconds = cache_seconds
        self._stamps = stamps if stamps is not None else videos.stamps
        self._where: dict[uuid.UUID, tuple[float, int, _Where | None]] = {}  # (until, stamp, where)
        self._infos: dict[str, ObjectInfo] = {}
        self._presigned_urls: dict[tuple[str, int | None], tuple[str, float]] = {}

    async def playback(self, video_id: uuid.UUID, viewer: Principal | None) -> Playback:
        """Where ``viewer`` can play ``video_id`` from: 404 if they may not see it, 409 if not ready."""
        video = await self._videos.visible(video_id, viewer)
        where = await self._locate(video_id, fresh=True)
        if where is None or not where.generations:
            raise Conflict(
                f"the video has no playable media yet (status {video.status})", code="media_not_ready"
            )
        base = f"/media/{video_id}/{where.generations[0]}/"
        expires_at = None
        if self._links is not None:
            base, expires = self._links.prefix(video_id, where.generations[0])
            expires_at = datetime.fromtimestamp(expires, UTC)
        elif where.private:
            token, expires = self._tokens.issue(video_id)
            base = f"/media/t/{token}/{video_id}/{where.generations[0]}/"
            expires_at = datetime.fromtimestamp(expires, UTC)
        return Playback(
            video_id=video_id,
            master_url=base + "master.m3u8",
            poster_url=base + "poster.jpg",
            expires_at=expires_at,
        )

    async def _locate(self, video_id: uuid.UUID, fresh: bool = False) -> _Where | None:
        now = time.monotonic()
        stamp = await self._stamps.read(video_id)  # before the read below: a change after it shows
        cached = self._where.get(video_id)
        if cached is not None and not fresh and cached[0] > now and cached[1] == stamp:
            return cached[2]
        rows = await self._db.fetch(
            "SELECT visibility, media_generation, previous_generation FROM videos WHERE id = {}", video_id
        )
        where = None
        if rows:
            row = rows[0]
            served = tuple(g for g in (row["media_generation"], row["previous_generation"]) if g)
            where = _Where(private=row["visibility"] == "private", generations=served)
        if stamp is None:  # changes cannot be heard now: keep nothing
            self._where.pop(video_id, None)
            return where
        if len(self._where) > 10_000:
            self._where.clear()
        self._where[video_id] = (now + self._cache_seconds, stamp, where)
        return where

    async def serve(
        self,
        video_id: uuid.UUID,
        generation: str,
        path: str,
        headers: Any,
        *,
        token: str | None = None,
        link: tuple[str, str] | None = None,
        head: bool = False,
    ) -> Response[Any]:
        """One file of a generation, with ranges, validators and the caching its URL allows;
        ``token`` or ``link`` (a secure link's signature and expiry) when the URL is signed."""
        if self._accel_prefix and headers.get(AUTHORIZE_HEADER):
            # nginx's auth_request takes only 2xx, 401 and 403: any refusal is a 403 here, and
            # nginx then asks again without the header to pass the real answer on.
            try:
                return await self._serve(video_id, generation, path, headers, token, link, head)
            except DomainError:
                return Response(content=b"", status_code=403)
        return await self._serve(video_id, generation, path, headers, token, link, head)

    async def _serve(
        self,
        video_id: uuid.UUID,
        generation: str,
        path: str,
        headers: Any,
        token: str | None,
        link: tuple[str, str] | None,
        head: bool,
    ) -> Response[Any]:
        name = path.removeprefix("/")
        if not _NAME.fullmatch(name):
            raise NotFound("no such media", code="media_not_found")
        expires = self._tokens.check(token, video_id) if token is not None else None
        if link is not None:
            if self._links is None:
                raise Forbidden("this signed URL is not valid here", code="signed_url_invalid")
            expires = self._links.check(link[0], link[1], video_id, generation)
        where = await self._locate(video_id)
        if where is None or generation not in where.generations:
            # Another instance may have announced a generation newer than this one's cache.
            where = await self._locate(video_id, fresh=True)
        if where is None or generation not in where.generations:
            raise NotFound("no such media", code="media_not_found")
        if where.private and expires is None:
            raise Forbidden("this video is private: its media needs a signed URL", code="signed_url_required")
        key = hls_prefix(video_id, generation) + name
        if link is not None:
            cache = SECURE_LINK_CACHE
        elif expires is None:
            cache = IMMUTABLE
        else:
            cache = f"private, max-age={max(0, int(expires - time.time()))}"
        if self._accel_prefix:
            # nginx answers a missing file with 404 and conditional or range requests itself; it
            # keeps this answer's Content-Type and Cache-Control.
            return Response(
                content=b"",
                media_type=guess_content_type(name),
                headers={"X-Accel-Redirect": self._accel_prefix + key, "Cache-Control": cache},
            )
        info = await self._stat(key)
        common = {"ETag": f'"{info.etag}"', "Cache-Control": cache, "Accept-Ranges": "bytes"}
        if _matches(headers.get("if-none-match"), info.etag):
            return Response(content=None, status_code=304, headers=common)
        if self._redirect and not name.endswith(".m3u8"):
            url = await self._presigned(key, expires)
            if url is not None:
                return Redirect(url, status_code=302, headers={"Cache-Control": "private, max-age=60"})
        return self._body(key, info, headers.get("range"), common, head)

    async def _presigned(self, key: str, expires: int | None) -> str | None:
        """A presigned URL of ``key``, reused while at least half its life is left: signing costs
        more than the rest of a redirect, and a CDN caches one URL better than many. A signed
        media URL's file gets a URL that ends no later than the signed URL (``expires``)."""
        now = time.time()
        kept = self._presigned_urls.get((key, expires))
        if kept is not None and kept[1] > now:
            return kept[0]
        lifetime = PRESIGNED_SECONDS if expires is None else max(60, int(expires - now))
        url = await self._storage.presigned_url(key, lifetime)
        if url is not None:
            if len(self._presigned_urls) >= _INFO_CACHE_SIZE:
                self._presigned_urls.clear()
            self._presigned_urls[(key, expires)] = (url, now + lifetime / 2)
        return url

    async def _stat(self, key: str) -> ObjectInfo:
        """A file's size, ETag and type. A served generation never changes, so what storage said
        once holds for as long as the generation is served (checked before this, every time)."""
        info = self._infos.get(key)
        if info is None:
            info = await self._storage.stat(key)
            if info is None:
                raise NotFound("no such media", code="media_not_found")
            if len(self._infos) >= _INFO_CACHE_SIZE:
                self._infos.clear()
            self._infos[key] = info
        return info

    def _body(
        self, key: str, info: ObjectInfo, range_header: str | None, common: dict[str, str], head: bool
    ) -> Response[Any]:
        try:
            span = parse_range(range_header, info.size)
        except RangeNotSatisfiable:
            return Response(
                content=b"",
                status_code=416,
                headers={**common, "Content-Range": f"bytes */{info.size}"},
            )
        start, end = span if span is not None else (0, info.size)
        status = 206 if span is not None else 200
        headers = {**common, "Content-Length": str(end - start), "Content-Type": info.content_type}
        if span is not None:
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{info.size}"
        if head:
            return Response(content=None, status_code=status, headers=headers)
        return Stream(self._storage.read(key, start, end), status_code=status, headers=headers)


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or f'"{etag}"' in tags

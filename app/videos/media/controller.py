"""REST endpoints of media: upload a source, ask where to play, fetch playlists and segments."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, get, head, put
from litestar.di import NamedDependency
from litestar.params import FromPath

from app.videos.media.serving import MediaServer, Playback
from app.videos.media.uploads import UploadAccepted, Uploads
from core.tokens import Principal


class MediaController(Controller):
    tags = ("media",)

    @put("/videos/{video_id:uuid}/media", status_code=202, request_max_body_size=None)
    async def upload(
        self,
        request: Request[Any, Any, Any],
        video_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal],
        uploads: NamedDependency[Uploads],
    ) -> UploadAccepted:
        """The video's source file as the raw request body; its owner only. Transcoding follows
        in the background: watch ``media.status`` on ``user:{id}``, or poll the video."""
        return await uploads.accept(principal, video_id, request.stream(), request.content_length)

    @get("/videos/{video_id:uuid}/playback")
    async def playback(
        self,
        video_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal | None],
        media: NamedDependency[MediaServer],
    ) -> Playback:
        """Where to play the video from (an HLS master playlist); signed for private videos."""
        return await media.playback(video_id, viewer)

    @get("/media/{video_id:uuid}/{generation:str}/{path:path}", include_in_schema=True)
    async def public_file(
        self,
        request: Request[Any, Any, Any],
        video_id: FromPath[uuid.UUID],
        generation: FromPath[str],
        path: FromPath[str],
        media: NamedDependency[MediaServer],
    ) -> Response[Any]:
        """A playlist, segment or poster of a public or unlisted video; ``Range`` supported."""
        return await media.serve(video_id, generation, path, request.headers)

    @head("/media/{video_id:uuid}/{generation:str}/{path:path}")
    async def public_file_head(
        self,
        request: Request[Any, Any, Any],
        video_id: FromPath[uuid.UUID],
        generation: FromPath[str],
        path: FromPath[str],
        media: NamedDependency[MediaServer],
    ) -> Response[None]:
        return await media.serve(video_id, generation, path, request.headers, head=True)

    @get("/media/t/{token:str}/{video_id:uuid}/{generation:str}/{path:path}")
    async def signed_file(
        self,
        request: Request[Any, Any, Any],
        token: FromPath[str],
        video_id: FromPath[uuid.UUID],
        generation: FromPath[str],
        path: FromPath[str],
        media: NamedDependency[MediaServer],
    ) -> Response[Any]:
        """The same, through a signed URL from ``/videos/{id}/playback`` (private videos)."""
        return await media.serve(video_id, generation, path, request.headers, token=token)

    @head("/media/t/{token:str}/{video_id:uuid}/{generation:str}/{path:path}")
    async def signed_file_head(
        self,
        request: Request[Any, Any, Any],
        token: FromPath[str],
        video_id: FromPath[uuid.UUID],
        generation: FromPath[str],
        path: FromPath[str],
        media: NamedDependency[MediaServer],
    ) -> Response[None]:
        return await media.serve(video_id, generation, path, request.headers, token=token, head=True)

"""REST endpoints of media: upload a source, ask where to play, fetch playlists and segments."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, HttpMethod, Request, Response, get, put, route
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

    @route(
        [
            "/media/{video_id:uuid}/{generation:str}/{path:path}",
            "/media/t/{token:str}/{video_id:uuid}/{generation:str}/{path:path}",
            "/media/l/{signature:str}/{expires:str}/{video_id:uuid}/{generation:str}/{path:path}",
        ],
        http_method=[HttpMethod.GET, HttpMethod.HEAD],
    )
    async def media_file(
        self,
        request: Request[Any, Any, Any],
        video_id: FromPath[uuid.UUID],
        generation: FromPath[str],
        path: FromPath[str],
        media: NamedDependency[MediaServer],
        token: FromPath[str] = "",  # only in the signed URL
        signature: FromPath[str] = "",  # only in the secure link
        expires: FromPath[str] = "",  # only in the secure link
    ) -> Response[Any]:
        """A playlist, segment or poster; ``Range`` supported; HEAD answers the same headers with
        no body. Public and unlisted videos at ``/media/...``; private ones through the signed
        URL ``/videos/{id}/playback`` gives (``/media/t/{token}/...``, or with secure links,
        which nginx can check itself, ``/media/l/{signature}/{expires}/...`` for every video)."""
        head = request.method == HttpMethod.HEAD
        link = (signature, expires) if signature else None
        return await media.serve(
            video_id, generation, path, request.headers, token=token or None, link=link, head=head
        )

"""What the media pipeline tells an uploader live, on their own ``user:{id}`` channel.

``media.status`` goes through the outbox (a status change is never lost and is recovered like any
publication); ``media.progress`` is ephemeral (the next one supersedes it, so none is kept).
"""

from __future__ import annotations

import uuid
from typing import Literal

import msgspec

from app.db import Database
from app.videos.schemas import Status, Video
from app.videos.service import VideoService
from realtime.channels import channel_name
from realtime.outbox import enqueue


class MediaStatus(msgspec.Struct, tag="media.status", frozen=True):
    video_id: uuid.UUID
    status: Status
    reason: str | None = None  # why it failed, for ``failed``


Stage = Literal["transcoding", "storing"]


class MediaProgress(msgspec.Struct, tag="media.progress", frozen=True):
    video_id: uuid.UUID
    stage: Stage
    fraction: float  # 0..1 within the stage


async def report_status(
    db: Database, videos: VideoService, video: Video, status: Status, reason: str | None = None
) -> None:
    """Tell the owner (``media.status`` on ``user:``) and the video's viewers (``video.updated``)
    that ``video`` is now in ``status``; inside the transaction that changed it."""
    event = MediaStatus(video_id=video.id, status=status, reason=reason)
    await enqueue(db, channel_name("user", video.owner.id), msgspec.json.encode(event))
    await videos.announce(video)

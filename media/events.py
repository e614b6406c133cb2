"""What the media pipeline tells an uploader live, on their own ``user:{id}`` channel.

``media.status`` goes through the outbox (a status change is never lost and is recovered like any
publication); ``media.progress`` is ephemeral (the next one supersedes it, so none is kept).
"""

from __future__ import annotations

import uuid
from typing import Literal

import msgspec

from app.videos.schemas import Status


class MediaStatus(msgspec.Struct, tag="media.status", frozen=True):
    video_id: uuid.UUID
    status: Status
    reason: str | None = None  # why it failed, for ``failed``


class MediaProgress(msgspec.Struct, tag="media.progress", frozen=True):
    video_id: uuid.UUID
    stage: Literal["transcoding", "storing"]
    fraction: float  # 0..1 within the stage

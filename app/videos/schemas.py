"""Wire types of the catalog endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

Visibility = Literal["public", "unlisted", "private"]
Status = Literal["draft", "uploaded", "processing", "ready", "failed"]
Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Description = Annotated[str, msgspec.Meta(max_length=5000)]


class UserRef(msgspec.Struct, frozen=True):
    id: uuid.UUID
    handle: str


class NewVideo(msgspec.Struct, forbid_unknown_fields=True):
    title: Title
    description: Description = ""
    visibility: Visibility = "public"


class VideoChange(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """A partial update: only the fields present change."""

    title: Title | msgspec.UnsetType = msgspec.UNSET
    description: Description | msgspec.UnsetType = msgspec.UNSET
    visibility: Visibility | msgspec.UnsetType = msgspec.UNSET


class Video(msgspec.Struct):
    id: uuid.UUID
    owner: UserRef
    title: str
    description: str
    visibility: Visibility
    status: Status
    duration_seconds: float | None
    created_at: datetime
    updated_at: datetime
    failure_reason: str | None = None  # why the last upload could not be transcoded, when ``failed``


class VideoPage(msgspec.Struct):
    items: list[Video]
    next_cursor: str | None  # pass as ``cursor`` for the next page; null on the last page


class Member(msgspec.Struct):
    user: UserRef
    added_at: datetime


class MemberPage(msgspec.Struct):
    items: list[Member]  # in the order they were added
    next_cursor: str | None

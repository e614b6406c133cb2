"""Wire types of profiles: the public profile page, the caller's own, and what other features show
of a person (``PersonName``, ``AvatarImage``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

import msgspec


class AvatarImage(msgspec.Struct, frozen=True):
    size: int  # edge length in pixels of this square WebP image
    url: str  # served as public and immutable: a new avatar gets new URLs


class PersonName(msgspec.Struct, frozen=True):
    """How to name a person in a sentence: the display name, else the handle."""

    id: uuid.UUID
    handle: str
    display_name: str | None


class ProfileCounts(msgspec.Struct):
    followers: int
    following: int
    friends: int  # mutual follows
    videos: int  # public videos that can be played


class ProfileRelationship(msgspec.Struct):
    """How the signed-in caller stands with this user."""

    is_self: bool
    following: bool  # the caller follows them
    followed_by: bool  # they follow the caller
    friends: bool  # both
    blocked: bool  # the caller blocked them
    muted: bool  # the caller muted them


class Profile(msgspec.Struct):
    """A user's public profile page."""

    id: uuid.UUID
    handle: str
    role: Literal["viewer", "moderator", "admin"]
    created_at: datetime
    display_name: str | None
    bio: str | None
    avatar: list[AvatarImage] | None  # smallest first; null without an avatar
    counts: ProfileCounts
    relationship: ProfileRelationship | None  # null for an anonymous caller


class MyProfile(msgspec.Struct):
    """The caller's own profile fields."""

    id: uuid.UUID
    handle: str
    display_name: str | None
    bio: str | None
    avatar: list[AvatarImage] | None
    updated_at: datetime | None  # null until the profile is first changed


class ProfileChange(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """A partial update: only the fields present change; null removes one. The display name is
    1-50 characters after trimming, the bio at most 500 (line breaks allowed); control
    characters and bidi overrides are refused in both."""

    display_name: str | msgspec.UnsetType | None = msgspec.UNSET
    bio: str | msgspec.UnsetType | None = msgspec.UNSET

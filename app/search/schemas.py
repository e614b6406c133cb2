"""What search answers: pages in the one list envelope, ``{items, next_cursor}``."""

from __future__ import annotations

import msgspec

from app.profiles.schemas import AvatarImage
from app.videos.schemas import UserRef


class PersonHit(msgspec.Struct):
    user: UserRef
    followers: int  # the popularity that orders equally relevant people
    display_name: str | None = None  # from the profile, if the person set one
    avatar: list[AvatarImage] | None = None  # the profile's avatar sizes, smallest first


class PeoplePage(msgspec.Struct):
    items: list[PersonHit]
    next_cursor: str | None  # pass as ``cursor`` for the next page; null on the last page

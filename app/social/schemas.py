"""Wire types of the social endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

import msgspec

from app.profiles.schemas import PersonName
from app.videos.schemas import UserRef, Video


class Connection(msgspec.Struct):
    """One person in a list of followers, following, friends, blocks or mutes."""

    user: UserRef
    since: datetime  # when the follow (friendship, block, mute) began


class ConnectionPage(msgspec.Struct):
    items: list[Connection]
    next_cursor: str | None  # pass as ``cursor`` for the next page; null on the last page


class Relationship(msgspec.Struct):
    """How the caller and another user stand."""

    user: UserRef
    following: bool  # the caller follows them
    followed_by: bool  # they follow the caller
    friends: bool  # both
    blocking: bool  # the caller blocked them
    muting: bool  # the caller muted them


class PersonSuggestion(msgspec.Struct):
    user: UserRef
    mutual_follows: int  # how many people the caller follows follow them
    followers: int
    explanation: str  # e.g. "followed by Ana, Bo and 1 other you follow"
    # The people named in the explanation (display name, else handle, for clients that render
    # their own sentence or link them), at most 3, and how many more are behind it.
    people: list[PersonName] = msgspec.field(default_factory=list)
    others: int = 0


class SuggestionPage(msgspec.Struct):
    """Ranked and computed whole for each request: one page, ``next_cursor`` always null."""

    items: list[PersonSuggestion]
    next_cursor: str | None  # always null


Reason = Literal[
    "trending_among_friends",
    "rated_by_friends",
    "rated_by_following",
    "watched_by_friends",
    "watched_by_following",
    "popular",
]


class VideoRecommendation(msgspec.Struct):
    video: Video
    reason: Reason
    explanation: str  # e.g. "Ana, Bo and 2 others rated this 4+"
    # The people named in the explanation, at most 3 (friends first, then the most recent), and
    # how many more did the same; empty for ``popular`` (and while nobody can be named yet: then
    # the explanation gives a count).
    people: list[PersonName] = msgspec.field(default_factory=list)
    others: int = 0


class RecommendationPage(msgspec.Struct):
    """Ranked and computed whole for each request: one page, ``next_cursor`` always null."""

    items: list[VideoRecommendation]
    next_cursor: str | None  # always null


class Watch(msgspec.Struct):
    video_id: uuid.UUID
    first_watched_at: datetime
    last_watched_at: datetime
    times: int

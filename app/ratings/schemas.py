"""Wire types of ratings: the request, the summary, and the live ``rating`` event."""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec

Stars = Annotated[int, msgspec.Meta(ge=1, le=5)]


class NewRating(msgspec.Struct, forbid_unknown_fields=True):
    stars: Stars


class RatingSummary(msgspec.Struct):
    video_id: uuid.UUID
    count: int
    mean: float | None  # null while nobody has rated
    histogram: list[int]  # how many gave 1, 2, 3, 4, 5 stars
    version: int  # grows with every change; apply a newer version only (docs/protocol.md)
    mine: int | None  # the caller's own stars; null when anonymous or not rated


class RatingUpdated(msgspec.Struct, tag="rating", frozen=True):
    """Published on ``video:{id}``: the totals as of ``version``, coalesced per video."""

    video_id: uuid.UUID
    version: int
    count: int
    mean: float | None
    histogram: list[int]


def mean(count: int, total: int) -> float | None:
    return total / count if count else None

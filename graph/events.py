"""Changes the graph projection must pick up, carried by the outbox on the ``@graph`` channel.

PostgreSQL is the system of record and the graph a projection of it. A change names a key, not a
new value: the projector reads that key's current state from PostgreSQL and writes it to the
graph, so a replayed or reordered change is harmless.
"""

from __future__ import annotations

import msgspec

from core.db import Database
from realtime.outbox import enqueue

GRAPH_CHANNEL = "@graph"


class VideoChanged(msgspec.Struct, tag="video", frozen=True):
    """A video was created, edited (visibility, status) or deleted."""

    video_id: str


class RatingChanged(msgspec.Struct, tag="rating", frozen=True):
    """A user set, changed or removed their rating of a video."""

    video_id: str
    user_id: str


class FollowChanged(msgspec.Struct, tag="follow", frozen=True):
    """``follower_id`` started or stopped following ``followee_id``."""

    follower_id: str
    followee_id: str


class BlockChanged(msgspec.Struct, tag="block", frozen=True):
    blocker_id: str
    blocked_id: str


class MuteChanged(msgspec.Struct, tag="mute", frozen=True):
    muter_id: str
    muted_id: str


class DismissalChanged(msgspec.Struct, tag="dismissal", frozen=True):
    """A user dismissed (or took back dismissing) a people-you-may-know suggestion."""

    user_id: str
    dismissed_id: str


class WatchChanged(msgspec.Struct, tag="watch", frozen=True):
    """A user reported watching a video."""

    user_id: str
    video_id: str


class UserChanged(msgspec.Struct, tag="user", frozen=True):
    """A user was created or deleted (a deleted user leaves the graph with all their edges)."""

    user_id: str


GraphChange = (
    VideoChanged
    | RatingChanged
    | FollowChanged
    | BlockChanged
    | MuteChanged
    | DismissalChanged
    | WatchChanged
    | UserChanged
)

decoder = msgspec.json.Decoder(GraphChange)
_encoder = msgspec.json.Encoder()


async def enqueue_change(db: Database, change: GraphChange) -> None:
    """Queue a change for the projector; call it inside the transaction of the change."""
    await enqueue(db, GRAPH_CHANNEL, _encoder.encode(change))

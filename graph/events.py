"""Changes the graph projection must pick up, carried by the outbox on the ``@graph`` channel.

PostgreSQL is the system of record and the graph a projection of it. A change names a key, not a
new value: the projector reads that key's current state from PostgreSQL and writes it to the
graph, so a replayed or reordered change is harmless.
"""

from __future__ import annotations

import msgspec

from app.db import Database
from realtime.outbox import enqueue

GRAPH_CHANNEL = "@graph"


class VideoChanged(msgspec.Struct, tag="video", frozen=True):
    """A video was created, edited (visibility, status) or deleted."""

    video_id: str


class RatingChanged(msgspec.Struct, tag="rating", frozen=True):
    """A user set, changed or removed their rating of a video."""

    video_id: str
    user_id: str


GraphChange = VideoChanged | RatingChanged

decoder = msgspec.json.Decoder(GraphChange)
_encoder = msgspec.json.Encoder()


async def enqueue_change(db: Database, change: GraphChange) -> None:
    """Queue a change for the projector; call it inside the transaction of the change."""
    await enqueue(db, GRAPH_CHANNEL, _encoder.encode(change))

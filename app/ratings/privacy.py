"""The ratings' personal data part. Erasing deletes the user's ratings: the totals trigger takes
each one out of its video's count, sum and histogram in the same statement, a ``@ratings`` event
per video has the broadcaster send the new totals live, and a ``@graph`` change per rating has the
projector drop the edge and count the video's popularity again."""

from __future__ import annotations

import uuid

import msgspec

from app.privacy.parts import Exported
from app.ratings.service import RATINGS_CHANNEL, RatingsChanged
from core.db import Database
from graph.events import GRAPH_CHANNEL, RatingChanged
from realtime.outbox import enqueue_many

_graph = msgspec.json.Encoder()


class RatingsPart:
    name = "ratings"
    store = "main"

    def __init__(self, db: Database) -> None:
        self._db = db

    async def export(self, user_id: uuid.UUID) -> Exported:
        rows = await self._db.fetch(
            "SELECT video_id, stars, created_at, updated_at FROM ratings WHERE user_id = {}"
            " ORDER BY created_at, video_id",
            user_id,
        )
        return Exported(records={"ratings": rows})

    async def erase(self, user_id: uuid.UUID) -> dict[str, int]:
        async with self._db.engine.transaction():
            gone = await self._db.fetch("DELETE FROM ratings WHERE user_id = {} RETURNING video_id", user_id)
            events = [(RATINGS_CHANNEL, msgspec.json.encode(RatingsChanged(row["video_id"]))) for row in gone]
            # The graph's copy: the edge goes and each video's popularity is counted again.
            events += [
                (
                    GRAPH_CHANNEL,
                    _graph.encode(RatingChanged(video_id=str(row["video_id"]), user_id=str(user_id))),
                )
                for row in gone
            ]
            await enqueue_many(self._db, events)
        return {"ratings": len(gone)}

    async def residue(self, user_id: uuid.UUID) -> list[str]:
        rows = await self._db.fetch("SELECT count(*) AS n FROM ratings WHERE user_id = {}", user_id)
        return [f"{rows[0]['n']} ratings by the user"] if rows[0]["n"] else []

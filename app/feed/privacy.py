"""The feed's personal data part: the user's activities, and those about them (someone followed
them). Erasing deletes those rows and their ``@feed`` outbox rows. A push not relayed yet is
withdrawn from the followers' channels first (its key retired, so it never goes out), and so is
one relayed within the bus's history window; older ``feed.item``s that some busy channel still
holds carry the actor's id, and the Redis part deletes them from the history streams.

It runs before the social part: withdrawing a push needs the followers it went to.
"""

from __future__ import annotations

import uuid

import msgspec

from app.feed.activity import FEED_CHANNEL, ActivityRecorded
from app.privacy.parts import Exported
from core.db import Database
from realtime.channels import channel_name
from realtime.outbox import publication_key, withdraw

BATCH = 1000


class FeedPart:
    name = "feed"
    store = "main"

    def __init__(self, db: Database, history_seconds: float, batch: int = BATCH) -> None:
        self._db = db
        self._history_seconds = history_seconds
        self._batch = batch

    async def export(self, user_id: uuid.UUID) -> Exported:
        rows = await self._db.fetch(
            "SELECT id, verb, video_id, subject_id, object_id, data, created_at FROM activities"
            " WHERE actor_id = {} ORDER BY id",
            user_id,
        )
        for row in rows:
            row["data"] = msgspec.json.decode(row["data"]) if isinstance(row["data"], str) else row["data"]
        return Exported(records={"activities": rows})

    async def erase(self, user_id: uuid.UUID) -> dict[str, int]:
        erased = 0
        while True:
            async with self._db.engine.transaction():
                batch = await self._db.fetch(
                    "SELECT id, actor_id FROM activities WHERE actor_id = {} OR subject_id = {}"
                    " ORDER BY id LIMIT {} FOR UPDATE",
                    user_id,
                    user_id,
                    self._batch,
                )
                if not batch:
                    break
                for actor in {row["actor_id"] for row in batch}:
                    await self._drop_pushes(actor, [row["id"] for row in batch if row["actor_id"] == actor])
                await self._db.fetch(
                    "DELETE FROM activities WHERE id = ANY({})", [row["id"] for row in batch]
                )
                erased += len(batch)
        return {"activities": erased}

    async def _drop_pushes(self, actor: uuid.UUID, activity_ids: list[int]) -> None:
        payloads = [msgspec.json.encode(ActivityRecorded(i)) for i in activity_ids]
        pushes = await self._db.fetch(
            "SELECT o.id, o.published_at IS NULL OR o.published_at > now() - make_interval(secs => {})"
            " AS recent FROM outbox o JOIN unnest({}::bytea[]) AS p(payload) ON o.payload = p.payload"
            " WHERE o.channel = {}",
            self._history_seconds,
            payloads,
            FEED_CHANNEL,
        )
        recent = [publication_key(row["id"]) for row in pushes if row["recent"]]
        if recent:
            followers = await self._db.fetch("SELECT follower_id FROM follows WHERE followee_id = {}", actor)
            await withdraw(self._db, [channel_name("user", f["follower_id"]) for f in followers], recent)
        if pushes:
            await self._db.fetch("DELETE FROM outbox WHERE id = ANY({})", [row["id"] for row in pushes])

    async def residue(self, user_id: uuid.UUID) -> list[str]:
        rows = await self._db.fetch(
            "SELECT count(*) AS n FROM activities WHERE actor_id = {} OR subject_id = {}", user_id, user_id
        )
        return [f"{rows[0]['n']} activities by or about the user"] if rows[0]["n"] else []

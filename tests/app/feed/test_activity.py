"""Recording an activity: a row and a ``@feed`` event, both or neither."""

from __future__ import annotations

import msgspec
import pytest

from app.feed.activity import FEED_CHANNEL, ActivityRecorded, record
from core.db import Database
from core.settings import Settings
from tests.users import person


async def test_an_activity_is_stored_with_its_feed_event(db: Database, settings: Settings) -> None:
    actor, followed = await person(settings), await person(settings)
    async with db.engine.transaction():
        activity_id = await record(db, actor.id, "followed", subject_id=followed.id, data={"via": "test"})
    rows = await db.fetch(
        "SELECT actor_id, verb, subject_id, data FROM activities WHERE id = {}", activity_id
    )
    assert rows[0]["actor_id"] == actor.id and rows[0]["verb"] == "followed"
    assert rows[0]["subject_id"] == followed.id
    assert msgspec.json.decode(rows[0]["data"]) == {"via": "test"}
    events = await db.fetch(
        "SELECT payload FROM outbox WHERE channel = {} ORDER BY id DESC LIMIT 1", FEED_CHANNEL
    )
    assert msgspec.json.decode(events[0]["payload"], type=ActivityRecorded).activity_id == activity_id


async def test_a_rolled_back_change_leaves_no_activity(db: Database, settings: Settings) -> None:
    actor = await person(settings)
    with pytest.raises(RuntimeError):
        async with db.engine.transaction():
            await record(db, actor.id, "rated")
            raise RuntimeError("the rating failed")
    assert await db.fetch("SELECT 1 FROM activities WHERE actor_id = {}", actor.id) == []

"""Videos made searchable without a transcode: created through the API, then marked ready."""

from __future__ import annotations

import uuid
from typing import Any

from core.db import Database
from tests.app.video_helpers import Client, new_video
from tests.users import Person


def word() -> str:
    """A made-up word of letters only, so no other test's video matches it."""
    return "".join(chr(ord("a") + int(c, 16) % 26) for c in uuid.uuid4().hex[:10])


async def ready_video(client: Client, db: Database, who: Person, **fields: Any) -> str:
    video = await new_video(client, who, **fields)
    await db.fetch(
        "UPDATE videos SET status = 'ready', media_generation = 'g1' WHERE id = {}", uuid.UUID(video)
    )
    return video


async def rate(db: Database, video: str, raters: list[Person]) -> None:
    for rater in raters:
        await db.fetch(
            "INSERT INTO ratings (video_id, user_id, stars) VALUES ({}, {}, 5)", uuid.UUID(video), rater.id
        )


def ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["id"] if "id" in item else item["user"]["id"] for item in response.json()["items"]]

"""Demo content for the embedded default, so a newcomer's first ``make run`` shows videos.

Idempotent: fixed ids, inserted only when missing. The demo owner is a public user with no
account (nobody can sign in as it).
"""

from __future__ import annotations

import uuid

from core.db import Database

DEMO_OWNER = uuid.UUID("00000000-0000-4000-8000-00000000d000")
DEMO_HANDLE = "mydrtv_demo"

DEMO_VIDEOS = (
    (
        uuid.UUID("00000000-0000-4000-8000-00000000d001"),
        "Test pattern: colour bars",
        "The classic bars, for checking playback and watch-party sync.",
    ),
    (
        uuid.UUID("00000000-0000-4000-8000-00000000d002"),
        "Test pattern: moving gradient",
        "A slowly moving gradient with a tone, handy for spotting drift between viewers.",
    ),
    (
        uuid.UUID("00000000-0000-4000-8000-00000000d003"),
        "Test pattern: countdown",
        "A counter that shows the position, so viewers can compare where they are.",
    ),
)


async def seed(db: Database) -> int:
    """Insert the demo owner and videos that are missing; returns how many videos were added."""
    async with db.engine.transaction():
        await db.fetch(
            "INSERT INTO users (id, handle) VALUES ({}, {}) ON CONFLICT DO NOTHING", DEMO_OWNER, DEMO_HANDLE
        )
        added = 0
        for video_id, title, description in DEMO_VIDEOS:
            rows = await db.fetch(
                "INSERT INTO videos (id, owner_id, title, description) VALUES ({}, {}, {}, {})"
                " ON CONFLICT DO NOTHING RETURNING id",
                video_id,
                DEMO_OWNER,
                title,
                description,
            )
            added += len(rows)
    return added

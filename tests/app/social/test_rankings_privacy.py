"""Erasing a user deletes the precomputed rankings that are theirs or that suggest them."""

from __future__ import annotations

import uuid

import msgspec

from app.social.privacy import SocialPart
from core.db import Database
from tests.services import DatabaseFactory


async def test_erasure_deletes_the_rankings_of_and_naming_the_user(databases: DatabaseFactory) -> None:
    db = Database("main", await databases.create_migrated("main"))
    await db.start(max_size=2)
    try:
        gone, keeps_row, names_gone, other = (uuid.uuid4() for _ in range(4))
        for n, user in enumerate((gone, keeps_row, names_gone, other)):
            await db.fetch("INSERT INTO users (id, handle) VALUES ({}, {})", user, f"r{n}_{user.hex[:6]}")

        async def store(user: uuid.UUID, kind: str, ids: list[uuid.UUID]) -> None:
            ranking = msgspec.json.encode([{"id": str(i), "mutual": 2, "followers": 1} for i in ids]).decode()
            await db.fetch(
                "INSERT INTO precomputed_rankings (user_id, kind, ranking, paths)"
                " VALUES ({}, {}, {}::jsonb, 500)",
                user,
                kind,
                ranking,
            )

        await store(gone, "people", [other])
        await store(names_gone, "people", [other, gone])
        await store(keeps_row, "people", [other, names_gone])
        part = SocialPart(db)
        assert await part.residue(gone) == ["2 precomputed_rankings rows"]

        counts = await part.erase(gone)

        assert counts["precomputed_rankings"] == 2
        assert await part.residue(gone) == []
        left = await db.fetch("SELECT user_id FROM precomputed_rankings")
        assert [row["user_id"] for row in left] == [keeps_row]
    finally:
        await db.stop()

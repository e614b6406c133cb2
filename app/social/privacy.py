"""The social graph's personal data part in PostgreSQL: follows (both ways), blocks, mutes,
dismissed suggestions and watches. The graph database's copy is the graph part's
(``app/privacy/graph.py``); the cached people-you-may-know rankings are forgotten here, and the
precomputed rankings (``app/social/rankings.py``) that are the user's or name them are deleted
(derived data: the next pass makes the others' again without them)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from app.privacy.parts import Exported
from core.db import Database
from graph.events import WatchChanged, enqueue_change

Forget = Callable[[uuid.UUID], Awaitable[object]]

# (table, the user's column, the other column): rows where the user is on either side go.
_RELATIONS = (
    ("follows", "follower_id", "followee_id"),
    ("blocks", "blocker_id", "blocked_id"),
    ("mutes", "muter_id", "muted_id"),
    ("suggestion_dismissals", "user_id", "dismissed_id"),
)


# Precomputed rankings that are the user's, or that suggest them to someone.
_RANKINGS = (
    "FROM precomputed_rankings WHERE user_id = {}"
    " OR ranking @> jsonb_build_array(jsonb_build_object('id', {}::text))"
)


# The user's relations to other people, as exported: kind -> (table, the user's column, theirs).
_EXPORTED_RELATIONS = {
    "following": ("follows", "follower_id", "followee_id"),
    "followers": ("follows", "followee_id", "follower_id"),
    "blocks": ("blocks", "blocker_id", "blocked_id"),
    "mutes": ("mutes", "muter_id", "muted_id"),
}


class SocialPart:
    name = "social"
    store = "main"

    def __init__(self, db: Database, forget_suggestions: Forget | None = None) -> None:
        self._db = db
        self._forget = forget_suggestions

    async def export(self, user_id: uuid.UUID) -> Exported:
        records = {
            **{
                kind: await self._db.fetch(
                    f"SELECT r.{other} AS user_id, u.handle, r.created_at FROM {table} r"
                    f" JOIN users u ON u.id = r.{other} WHERE r.{own} = {{}} ORDER BY r.created_at",
                    user_id,
                )
                for kind, (table, own, other) in _EXPORTED_RELATIONS.items()
            },
            "dismissed_suggestions": await self._db.fetch(
                "SELECT dismissed_id AS user_id, created_at FROM suggestion_dismissals"
                " WHERE user_id = {} ORDER BY created_at",
                user_id,
            ),
            "watches": await self._db.fetch(
                "SELECT video_id, first_watched_at, last_watched_at, times FROM watches"
                " WHERE user_id = {} ORDER BY first_watched_at",
                user_id,
            ),
        }
        return Exported(records=records)

    async def erase(self, user_id: uuid.UUID) -> dict[str, int]:
        counts: dict[str, int] = {}
        touched: set[uuid.UUID] = set()
        async with self._db.engine.transaction():
            for table, mine, other in _RELATIONS:
                gone = await self._db.fetch(
                    f"DELETE FROM {table} WHERE {mine} = {{}} OR {other} = {{}}"
                    f" RETURNING {mine} AS a, {other} AS b",
                    user_id,
                    user_id,
                )
                counts[table] = len(gone)
                touched |= {row["a"] for row in gone} | {row["b"] for row in gone}
            watches = await self._db.fetch(
                "DELETE FROM watches WHERE user_id = {} RETURNING video_id", user_id
            )
            counts["watches"] = len(watches)
            rankings = await self._db.fetch(f"DELETE {_RANKINGS} RETURNING 1", user_id, str(user_id))
            counts["precomputed_rankings"] = len(rankings)
            for watch in watches:  # the graph counts each video's popularity again
                await enqueue_change(
                    self._db, WatchChanged(user_id=str(user_id), video_id=str(watch["video_id"]))
                )
        if self._forget is not None:
            for someone in touched | {user_id}:
                await self._forget(someone)
        return counts

    async def residue(self, user_id: uuid.UUID) -> list[str]:
        found = []
        for table, mine, other in (*_RELATIONS, ("watches", "user_id", "user_id")):
            rows = await self._db.fetch(
                f"SELECT count(*) AS n FROM {table} WHERE {mine} = {{}} OR {other} = {{}}", user_id, user_id
            )
            if rows[0]["n"]:
                found.append(f"{rows[0]['n']} {table} rows")
        rankings = await self._db.fetch(f"SELECT count(*) AS n {_RANKINGS}", user_id, str(user_id))
        if rankings[0]["n"]:
            found.append(f"{rankings[0]['n']} precomputed_rankings rows")
        return found

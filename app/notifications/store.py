"""Reading notifications back: one notification as the wire shows it, and the unread count.

Shared by the writer (the live events carry the whole notification) and the REST service.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec

from app.notifications.schemas import ACTORLESS, SHOWN_ACTORS, Actor, Notification
from core.db import Database

_ACTORLESS_SQL = "(" + ", ".join(f"'{kind}'" for kind in ACTORLESS) + ")"

# The latest distinct actors with their current handles, and how many there are in all.
SELECT_NOTIFICATION = f"""
SELECT n.id, n.kind, n.video_id, n.comment_id, n.party_id, n.data, n.created_at, n.updated_at,
       n.read_at IS NOT NULL AS read,
       (SELECT count(DISTINCT a.actor_id) FROM notification_actors a WHERE a.notification_id = n.id)
           AS actor_count,
       (SELECT coalesce(json_agg(json_build_object('id', s.actor_id, 'handle', s.handle)
                                 ORDER BY s.acted_at DESC), '[]')
        FROM (SELECT a.actor_id, u.handle, max(a.acted_at) AS acted_at
              FROM notification_actors a JOIN users u ON u.id = a.actor_id
              WHERE a.notification_id = n.id GROUP BY a.actor_id, u.handle
              ORDER BY max(a.acted_at) DESC, a.actor_id LIMIT {SHOWN_ACTORS}) s) AS actors
FROM notifications n
"""
# A notification whose every actor is gone (erased accounts) says nothing any more: left out.
SHOWN = (
    f"(n.kind IN {_ACTORLESS_SQL}"
    " OR EXISTS (SELECT 1 FROM notification_actors a WHERE a.notification_id = n.id))"
)

_actors = msgspec.json.Decoder(list[Actor])


def _json(value: Any) -> Any:
    return msgspec.json.decode(value) if isinstance(value, str | bytes) else value


def notification_from_row(row: dict[str, Any]) -> Notification:
    actors = row["actors"]
    return Notification(
        id=row["id"],
        kind=row["kind"],
        actors=_actors.decode(actors) if isinstance(actors, str | bytes) else [Actor(**a) for a in actors],
        actor_count=int(row["actor_count"]),
        video_id=row["video_id"],
        comment_id=row["comment_id"],
        party_id=row["party_id"],
        data=_json(row["data"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        read=row["read"],
    )


async def load(db: Database, notification_id: int) -> Notification | None:
    rows = await db.fetch(SELECT_NOTIFICATION + " WHERE n.id = {}", notification_id)
    return notification_from_row(rows[0]) if rows else None


async def unread(db: Database, recipient_id: uuid.UUID) -> int:
    rows = await db.fetch(
        "SELECT count(*) AS n FROM notifications n WHERE n.recipient_id = {} AND n.read_at IS NULL AND "
        + SHOWN,
        recipient_id,
    )
    return int(rows[0]["n"])

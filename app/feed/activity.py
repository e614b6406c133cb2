"""Recording activities: every feature calls ``record`` inside the transaction of its change.

The row is the feed's source of truth; the ``@feed`` outbox event lets the relay push the new
item live to the actor's followers (see ``app/feed``), and never fires for a rolled-back change.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

import msgspec

from core.db import Database
from realtime.outbox import enqueue

FEED_CHANNEL = "@feed"

_SENTINEL = 987_654_321  # an id, to split the payload's JSON around

Verb = Literal["rated", "commented", "started_party", "followed", "uploaded"]


class ActivityRecorded(msgspec.Struct, frozen=True):
    """The ``@feed`` outbox payload: which activity row to push."""

    activity_id: int


# ``ActivityRecorded``'s JSON before and after the id, for SQL that builds it around the id the
# insert gives (``record_ctes``, app/comments/posting.py).
_before, _, _after = msgspec.json.encode(ActivityRecorded(_SENTINEL)).decode().partition(str(_SENTINEL))
PUSH_AROUND_ID = (_before, _after)


def record_ctes(
    actor_id: uuid.UUID,
    verb: Verb,
    *,
    video_id: uuid.UUID | None = None,
    object_id: str | None = None,
    data: dict[str, Any] | None = None,
    after: str = "",
) -> tuple[str, list[Any]]:
    """``record`` as two common table expressions, for a change that stores everything in one
    statement (a round trip per row costs more than the rows): ``activity`` (the row's ``id``) and
    ``activity_push`` (the ``id`` of its ``@feed`` outbox row). ``after`` names a CTE of the same
    statement whose outbox rows must come first: the push is made from its rows. The caller's
    statement wakes the relay (``NOTIFY``), as ``enqueue`` does."""
    sql = (
        "activity AS (INSERT INTO activities (actor_id, verb, video_id, object_id, data)"
        " VALUES ({}, {}, {}, {}, {}::jsonb) RETURNING id),"
        " activity_push AS (INSERT INTO outbox (channel, payload)"
        " SELECT {}, convert_to({} || activity.id || {}, 'UTF8')"
        f" FROM activity{', ' + after if after else ''} RETURNING id)"
    )
    args: list[Any] = [actor_id, verb, video_id, object_id, msgspec.json.encode(data or {}).decode()]
    return sql, [*args, FEED_CHANNEL, *PUSH_AROUND_ID]


async def record(
    db: Database,
    actor_id: uuid.UUID,
    verb: Verb,
    *,
    video_id: uuid.UUID | None = None,
    subject_id: uuid.UUID | None = None,
    object_id: str | None = None,
    data: dict[str, Any] | None = None,
) -> int:
    """Store one activity and queue its live push; returns the activity's id."""
    rows = await db.fetch(
        "INSERT INTO activities (actor_id, verb, video_id, subject_id, object_id, data)"
        " VALUES ({}, {}, {}, {}, {}, {}::jsonb) RETURNING id",
        actor_id,
        verb,
        video_id,
        subject_id,
        object_id,
        msgspec.json.encode(data or {}).decode(),
    )
    activity_id = int(rows[0]["id"])
    await enqueue(db, FEED_CHANNEL, msgspec.json.encode(ActivityRecorded(activity_id)))
    return activity_id

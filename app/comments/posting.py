"""A plain comment posted in one statement: no reply, no mention, not held (most comments).

The comment row, its ``comment.created`` outbox row for ``video:{id}``, the author's activity and
its ``@feed`` outbox row, the publication keys and the relay's ``NOTIFY`` go in one statement, so
it needs no explicit transaction: one round trip to PostgreSQL where ``BEGIN``, two statements
and ``COMMIT`` were four, on the path every comment takes.

The event must carry the id and the creation time the insert gives, so its JSON is encoded here
with placeholders and PostgreSQL fills them in: the same bytes ``encoder.encode(CommentCreated)``
gives for the stored row (a test compares them). The outbox ids are drawn first, so the comment
row is inserted with its publication keys already in it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import msgspec

from app.comments.events import CommentCreated, encoder
from app.comments.schemas import Comment
from app.feed.activity import FEED_CHANNEL, PUSH_AROUND_ID
from app.videos.schemas import UserRef
from core.db import Database
from core.tokens import Principal
from realtime.channels import channel_name
from realtime.outbox import KEY_PREFIX, NOTIFY_CHANNEL

FEED_KEY = "feed:"  # a remembered key of a feed item on followers' channels, not of the video's
EXCERPT_CHARS = 140
_ID = -987_654_321  # placeholders in the encoded event
_AT = datetime(1999, 9, 9, 9, 9, 9, 90909, tzinfo=UTC)
# What msgspec writes for a UTC time: seconds, then ".ffffff" unless the microseconds are 0, then Z.
CREATED_AT_JSON = (
    "to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS')"
    " || CASE WHEN date_part('microseconds', c.created_at)::bigint % 1000000 = 0 THEN ''"
    " ELSE to_char(c.created_at AT TIME ZONE 'UTC', '.US') END || 'Z'"
)

_POST = f"""
WITH ids AS (
    SELECT nextval(pg_get_serial_sequence('outbox', 'id')) AS event_id,
           nextval(pg_get_serial_sequence('outbox', 'id')) AS push_id
), c AS (
    INSERT INTO comments (video_id, author_id, body, position_seconds, status, publication_keys)
    SELECT {{}}::uuid, {{}}::uuid, {{}}::text, {{}}::float8, 'visible',
           ARRAY[{{}}::text || ids.event_id, {{}}::text || ids.push_id] FROM ids
    RETURNING id, created_at
), event AS (
    INSERT INTO outbox (id, channel, payload)
    SELECT ids.event_id, {{}}::text,
           convert_to({{}}::text || c.id || {{}}::text || {CREATED_AT_JSON} || {{}}::text, 'UTF8') FROM ids, c
), activity AS (
    INSERT INTO activities (actor_id, verb, video_id, object_id, data)
    SELECT {{}}::uuid, 'commented', {{}}::uuid, c.id::text, {{}}::jsonb FROM c
    RETURNING id
), push AS (
    INSERT INTO outbox (id, channel, payload)
    SELECT ids.push_id, {{}}::text, convert_to({{}}::text || activity.id || {{}}::text, 'UTF8')
    FROM ids, activity
)
SELECT c.id, c.created_at, pg_notify({{}}::text, '') FROM c
"""


def _around(text: str, mark: str) -> tuple[str, str]:
    before, found, after = text.partition(mark)
    if not found:
        raise AssertionError(f"{mark!r} not in the encoded event")
    return before, after


def event_template(comment: Comment) -> tuple[str, str, str]:
    """The event's JSON in three pieces, around its id and its creation time. The marks are
    looked for with their keys and quotes, which the comment's text cannot contain unescaped."""
    placeholder = msgspec.structs.replace(comment, id=_ID, created_at=_AT)
    text = encoder.encode(CommentCreated(placeholder)).decode()
    at = msgspec.json.encode(_AT).decode()
    before_id, rest = _around(text, f'"id":{_ID}')
    middle, after = _around(rest, f'"created_at":{at}')
    return before_id + '"id":', middle + '"created_at":"', '"' + after


async def post_plain(
    db: Database, author: Principal, video_id: uuid.UUID, body: str, position: float | None
) -> Comment:
    """Store a visible top-level comment with no mention, and everything that goes with it."""
    draft = Comment(
        id=_ID,
        video_id=video_id,
        author=UserRef(id=author.id, handle=author.handle),
        body=body,
        parent_id=None,
        root_id=None,
        position_seconds=position,
        status="visible",
        reply_count=0,
        created_at=_AT,
        edited_at=None,
    )
    before_id, middle, after = event_template(draft)
    args: list[Any] = [video_id, author.id, body, position, KEY_PREFIX, FEED_KEY + KEY_PREFIX]
    args += [channel_name("video", video_id), before_id, middle, after]
    args += [author.id, video_id, msgspec.json.encode({"excerpt": body[:EXCERPT_CHARS]}).decode()]
    args += [FEED_CHANNEL, *PUSH_AROUND_ID, NOTIFY_CHANNEL]
    (row,) = await db.fetch(_POST, *args)
    return msgspec.structs.replace(draft, id=row["id"], created_at=row["created_at"])

"""Moderators' tools other than acting on a comment: restrictions, slow mode, held words, the
review queue, and reading the audit log. Every change is logged in its own transaction.

Acting on a comment (remove, approve) is ``CommentService``'s, because it changes what goes out
live; the queue only lists what waits.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec

from app.comments.service import SELECT_COMMENT, comment_from_row
from app.moderation import audit
from app.moderation.policy import ModerationPolicy
from app.moderation.schemas import (
    HeldWord,
    HeldWordPage,
    LogEntry,
    LogPage,
    NewHeldWord,
    NewRestriction,
    QueueItem,
    QueuePage,
    Restriction,
    RestrictionPage,
    SlowMode,
    SlowModeChange,
    SlowModeChanged,
)
from app.videos.schemas import UserRef
from app.videos.service import VideoService
from core.db import Database
from core.errors import BadRequest, Conflict, Forbidden, NotFound
from core.pagination import Keyset, page_rows
from core.tokens import Principal
from realtime.channels import channel_name
from realtime.outbox import enqueue

_RESTRICTION = """
SELECT r.id, r.user_id, u.handle, r.kind, r.video_id, r.reason, r.created_by, m.handle AS created_by_handle,
       r.created_at, r.ends_at, r.lifted_at
FROM moderation_restrictions r
JOIN users u ON u.id = r.user_id
LEFT JOIN users m ON m.id = r.created_by
"""
_LOG = "SELECT l.*, u.handle AS actor_handle FROM moderation_log l LEFT JOIN users u ON u.id = l.actor_id"
_ACTIVE = "r.lifted_at IS NULL AND (r.ends_at IS NULL OR r.ends_at > now())"
_NEWEST_RESTRICTIONS = Keyset(("r.id",), ("id",), tuple[int])
_NEWEST_LOG = Keyset(("l.id",), ("id",), tuple[int])
_OLDEST_WORD = Keyset(("id",), ("id",), tuple[int], descending=False)
_LONGEST_WAITING = Keyset(
    ("c.flagged_at", "c.id"), ("flagged_at", "id"), tuple[datetime, int], descending=False
)


def _user(user_id: uuid.UUID | None, handle: str | None) -> UserRef | None:
    """A reference to a user who may since have been deleted."""
    return UserRef(id=user_id, handle=handle) if user_id is not None and handle is not None else None


def _restriction(row: dict[str, Any]) -> Restriction:
    return Restriction(
        id=row["id"],
        user=UserRef(id=row["user_id"], handle=row["handle"]),
        kind=row["kind"],
        video_id=row["video_id"],
        reason=row["reason"],
        created_by=_user(row["created_by"], row["created_by_handle"]),
        created_at=row["created_at"],
        ends_at=row["ends_at"],
        lifted_at=row["lifted_at"],
    )


class ModerationService:
    def __init__(self, db: Database, videos: VideoService, policy: ModerationPolicy) -> None:
        self._db = db
        self._videos = videos
        self._policy = policy

    async def authorize(self, moderator: Principal) -> None:
        """Staff under no restriction in force; 403 ``forbidden_role``, ``banned`` or ``timed_out``."""
        await self._policy.may_moderate(moderator)

    async def _outranks(self, actor: Principal, user_id: uuid.UUID) -> None:
        """Only a higher role than the user's restricts them or lifts their restriction: staff
        are answerable to those above them, never to their peers or themselves."""
        targets = await self._db.fetch("SELECT role FROM users WHERE id = {}", user_id)
        if not targets:
            raise NotFound("no such user", code="user_not_found")
        if not actor.outranks(targets[0]["role"]):
            raise Forbidden(
                "only a higher role restricts staff or lifts their restrictions: moderators answer to"
                " admins, admins to nobody",
                code="target_is_staff",
            )

    # Timeouts and bans --------------------------------------------------------------------------

    async def restrict(self, moderator: Principal, form: NewRestriction) -> Restriction:
        await self._outranks(moderator, form.user_id)
        if form.kind == "timeout" and form.seconds is None:
            raise BadRequest("a timeout needs its length in seconds", code="seconds_required")
        if form.video_id is not None:
            await self._videos.visible(form.video_id, moderator)
        async with self._db.engine.transaction():
            (row,) = await self._db.fetch(
                "INSERT INTO moderation_restrictions (user_id, kind, video_id, reason, created_by, ends_at)"
                " VALUES ({}, {}, {}, {}, {}, now() + make_interval(secs => {})) RETURNING id",
                form.user_id,
                form.kind,
                form.video_id,
                form.reason,
                moderator.id,
                form.seconds,
            )
            await audit.log(
                self._db,
                moderator,
                "restriction.add",
                reason=form.reason,
                video_id=form.video_id,
                target_user_id=form.user_id,
                details={"restriction_id": row["id"], "kind": form.kind, "seconds": form.seconds},
            )
        return await self._restriction(row["id"])

    async def _restriction(self, restriction_id: int, *, lock: bool = False) -> Restriction:
        rows = await self._db.fetch(
            _RESTRICTION + " WHERE r.id = {}" + (" FOR UPDATE OF r" if lock else ""), restriction_id
        )
        if not rows:
            raise NotFound("no such restriction", code="restriction_not_found")
        return _restriction(rows[0])

    async def lift(self, moderator: Principal, restriction_id: int, reason: str) -> Restriction:
        async with self._db.engine.transaction():
            restriction = await self._restriction(restriction_id, lock=True)
            await self._outranks(moderator, restriction.user.id)
            rows = await self._db.fetch(
                f"UPDATE moderation_restrictions r SET lifted_at = now(), lifted_by = {{}}"
                f" WHERE r.id = {{}} AND {_ACTIVE} RETURNING r.id",
                moderator.id,
                restriction_id,
            )
            if not rows:
                raise Conflict("this restriction has already ended", code="not_active")
            await audit.log(
                self._db,
                moderator,
                "restriction.lift",
                reason=reason,
                video_id=restriction.video_id,
                target_user_id=restriction.user.id,
                details={"restriction_id": restriction_id, "kind": restriction.kind},
            )
        return await self._restriction(restriction_id)

    async def restrictions(
        self, user_id: uuid.UUID | None, video_id: uuid.UUID | None, cursor: str | None, limit: int
    ) -> RestrictionPage:
        """Restrictions in force, newest first, optionally of one user or on one video."""
        conditions: list[str] = [_ACTIVE]
        values: list[Any] = []
        if user_id is not None:
            conditions.append("r.user_id = {}")
            values.append(user_id)
        if video_id is not None:
            conditions.append("r.video_id = {}")
            values.append(video_id)
        rows, next_cursor = await page_rows(
            self._db, _RESTRICTION, conditions, values, _NEWEST_RESTRICTIONS, cursor, limit
        )
        return RestrictionPage(items=[_restriction(row) for row in rows], next_cursor=next_cursor)

    # Slow mode ----------------------------------------------------------------------------------

    async def slow_mode(self, video_id: uuid.UUID, viewer: Principal | None) -> SlowMode:
        await self._videos.visible(video_id, viewer)
        rows = await self._db.fetch(
            "SELECT slow_mode_seconds FROM video_moderation WHERE video_id = {}", video_id
        )
        return SlowMode(video_id=video_id, seconds=rows[0]["slow_mode_seconds"] if rows else 0)

    async def set_slow_mode(
        self, moderator: Principal, video_id: uuid.UUID, change: SlowModeChange
    ) -> SlowMode:
        await self._videos.visible(video_id, moderator)
        async with self._db.engine.transaction():
            await self._db.fetch(
                "INSERT INTO video_moderation (video_id, slow_mode_seconds) VALUES ({}, {})"
                " ON CONFLICT (video_id) DO UPDATE SET slow_mode_seconds = EXCLUDED.slow_mode_seconds",
                video_id,
                change.seconds,
            )
            event = SlowModeChanged(video_id=video_id, seconds=change.seconds)
            await enqueue(self._db, channel_name("video", video_id), msgspec.json.encode(event))
            await audit.log(
                self._db,
                moderator,
                "slow_mode.set",
                reason=change.reason,
                video_id=video_id,
                details={"seconds": change.seconds},
            )
        return SlowMode(video_id=video_id, seconds=change.seconds)

    # Held words ---------------------------------------------------------------------------------

    async def held_words(self, video_id: uuid.UUID | None, cursor: str | None, limit: int) -> HeldWordPage:
        """The global list and, with ``video_id``, that video's own words, oldest first."""
        rows, next_cursor = await page_rows(
            self._db,
            "SELECT id, word, video_id, created_at FROM held_words",
            ["(video_id IS NULL OR video_id = {})"],
            (video_id,),
            _OLDEST_WORD,
            cursor,
            limit,
        )
        return HeldWordPage(items=[HeldWord(**row) for row in rows], next_cursor=next_cursor)

    async def add_held_word(self, moderator: Principal, form: NewHeldWord) -> HeldWord:
        word = form.word.strip()
        if not word:
            raise BadRequest("a held word needs some text", code="empty_word")
        if form.video_id is not None:
            await self._videos.visible(form.video_id, moderator)
        async with self._db.engine.transaction():
            rows = await self._db.fetch(
                "INSERT INTO held_words (word, video_id, created_by) VALUES ({}, {}, {})"
                " ON CONFLICT DO NOTHING RETURNING id, word, video_id, created_at",
                word,
                form.video_id,
                moderator.id,
            )
            if not rows:
                raise Conflict("this word is on the list already", code="word_exists")
            await audit.log(
                self._db,
                moderator,
                "held_word.add",
                reason=form.reason,
                video_id=form.video_id,
                details={"word_id": rows[0]["id"], "word": word},
            )
        return HeldWord(**rows[0])

    async def remove_held_word(self, moderator: Principal, word_id: int) -> None:
        async with self._db.engine.transaction():
            rows = await self._db.fetch(
                "DELETE FROM held_words WHERE id = {} RETURNING word, video_id", word_id
            )
            if not rows:
                raise NotFound("no such held word", code="word_not_found")
            await audit.log(
                self._db,
                moderator,
                "held_word.remove",
                video_id=rows[0]["video_id"],
                details={"word_id": word_id, "word": rows[0]["word"]},
            )

    # The review queue and the log --------------------------------------------------------------

    async def queue(self, cursor: str | None, limit: int) -> QueuePage:
        """Held and reported comments, longest waiting first."""
        conditions = ["c.flagged_at IS NOT NULL", "c.status IN ('visible', 'held')"]
        rows, next_cursor = await page_rows(
            self._db, SELECT_COMMENT, conditions, [], _LONGEST_WAITING, cursor, limit
        )
        reports = await self._db.fetch(
            "SELECT comment_id, count(*) AS n, (array_agg(reason ORDER BY created_at DESC))[1:5] AS reasons"
            " FROM comment_reports WHERE comment_id = ANY({}) AND resolved_at IS NULL GROUP BY comment_id",
            [row["id"] for row in rows],
        )
        by_comment = {r["comment_id"]: r for r in reports}
        items = [
            QueueItem(
                comment=comment_from_row(row),
                why="held" if row["status"] == "held" else "reported",
                reports=int(by_comment[row["id"]]["n"]) if row["id"] in by_comment else 0,
                report_reasons=list(by_comment[row["id"]]["reasons"]) if row["id"] in by_comment else [],
                waiting_since=row["flagged_at"],
            )
            for row in rows
        ]
        return QueuePage(items=items, next_cursor=next_cursor)

    async def log(
        self, video_id: uuid.UUID | None, user_id: uuid.UUID | None, cursor: str | None, limit: int
    ) -> LogPage:
        """The audit log, newest first, optionally about one video or one target user."""
        conditions: list[str] = []
        values: list[Any] = []
        if video_id is not None:
            conditions.append("l.video_id = {}")
            values.append(video_id)
        if user_id is not None:
            conditions.append("l.target_user_id = {}")
            values.append(user_id)
        rows, next_cursor = await page_rows(self._db, _LOG, conditions, values, _NEWEST_LOG, cursor, limit)
        items = [
            LogEntry(
                id=row["id"],
                actor=_user(row["actor_id"], row["actor_handle"]),
                action=row["action"],
                video_id=row["video_id"],
                comment_id=row["comment_id"],
                target_user_id=row["target_user_id"],
                reason=row["reason"],
                details=msgspec.json.decode(row["details"]),
                created_at=row["created_at"],
            )
            for row in rows
        ]
        return LogPage(items=items, next_cursor=next_cursor)

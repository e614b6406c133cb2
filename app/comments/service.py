"""The comment rules: who sees which comment, who may change it, and what goes out live.

Every change and its live event commit together (the outbox). A comment that stops being public
(deleted by its author, removed by a moderator, held again after an edit) has its earlier events
withdrawn from the channel's history, so clients that recover or subscribe later never see it, and
a ``comment.removed`` tells connected clients to drop it. Hiding a top-level comment hides its
thread: replies are only shown under a root the viewer may see, and their events leave history
with the root's. History changes only after the hiding commits (the outbox's ``withdraw``).
"""

from __future__ import annotations

import re
import uuid
from typing import Any, Literal

from app.comments import notices
from app.comments.events import CommentCreated, CommentEdited, CommentRemoved, encoder
from app.comments.posting import EXCERPT_CHARS, FEED_KEY, post_plain
from app.comments.schemas import Comment, CommentChange, CommentPage, NewComment, NewReport
from app.feed.activity import record_ctes
from app.moderation import audit
from app.moderation.policy import ModerationPolicy
from app.moderation.throttle import Throttle, rule
from app.videos.schemas import UserRef
from app.videos.service import STAFF, VideoService
from core.db import Database
from core.errors import BadRequest, Conflict, Forbidden, NotFound
from core.pagination import Keyset, page_rows
from core.tokens import Principal
from realtime.channels import channel_name
from realtime.outbox import KEY_PREFIX, NOTIFY_CHANNEL, enqueue, withdraw

SELECT_COMMENT = """
SELECT c.id, c.video_id, c.author_id, u.handle AS author_handle, c.body, c.parent_id, c.root_id,
       c.position_seconds, c.status, c.created_at, c.edited_at, c.publication_keys, c.flagged_at,
       EXTRACT(EPOCH FROM now() - c.created_at) AS age_seconds,
       CASE WHEN c.root_id IS NULL
            THEN (SELECT count(*) FROM comments r WHERE r.root_id = c.id AND r.status = 'visible')
            ELSE 0 END AS reply_count
FROM comments c JOIN users u ON u.id = c.author_id
"""

# C0 controls other than tab, line feed and carriage return (PostgreSQL refuses NUL outright).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NEWEST = Keyset(("c.id",), ("id",), tuple[int])
_OLDEST = Keyset(("c.id",), ("id",), tuple[int], descending=False)
_PLAYBACK_ORDER = Keyset(
    ("c.position_seconds", "c.id"), ("position_seconds", "id"), tuple[float, int], descending=False
)
_FEED_KEY = FEED_KEY

TakeDown = Literal["deleted", "removed"]


def comment_from_row(row: dict[str, Any]) -> Comment:
    return Comment(
        id=row["id"],
        video_id=row["video_id"],
        author=UserRef(id=row["author_id"], handle=row["author_handle"]),
        body=row["body"],
        parent_id=row["parent_id"],
        root_id=row["root_id"],
        position_seconds=row["position_seconds"],
        status=row["status"],
        reply_count=int(row["reply_count"]),
        created_at=row["created_at"],
        edited_at=row["edited_at"],
    )


def shown_to(viewer: Principal | None, alias: str = "c") -> tuple[str, list[Any]]:
    """SQL: the comments ``viewer`` may see. Held ones only for their author and moderators."""
    if viewer is None:
        return f"{alias}.status = 'visible'", []
    if viewer.has_role(*STAFF):
        return f"{alias}.status IN ('visible', 'held')", []
    return (
        f"{alias}.status IN ('visible', 'held') AND ({alias}.status = 'visible' OR {alias}.author_id = {{}})",
        [viewer.id],
    )


def _with_root_shown(viewer: Principal | None) -> tuple[str, list[Any]]:
    """SQL: ``c`` is shown, and so is its thread's root (hiding a root hides its thread)."""
    own, own_args = shown_to(viewer, "c")
    root, root_args = shown_to(viewer, "t")
    root_shown = f"EXISTS (SELECT FROM comments t WHERE t.id = c.root_id AND {root})"
    return f"{own} AND (c.root_id IS NULL OR {root_shown})", own_args + root_args


class CommentService:
    def __init__(
        self,
        db: Database,
        videos: VideoService,
        policy: ModerationPolicy,
        throttle: Throttle,
        *,
        max_chars: int,
        edit_seconds: int,
        report_rate: str,
    ) -> None:
        self._db = db
        self._videos = videos
        self._policy = policy
        self._throttle = throttle
        self._max_chars = max_chars
        self._edit_seconds = edit_seconds
        self._report_rate = rule(report_rate)

    # Reading ------------------------------------------------------------------------------------

    async def _load(self, comment_id: int, viewer: Principal | None, *, lock: bool = False) -> dict[str, Any]:
        """The comment if ``viewer`` may see it (and its video); 404 otherwise, whatever the reason."""
        shown, args = _with_root_shown(viewer)
        rows = await self._db.fetch(
            SELECT_COMMENT + f" WHERE c.id = {{}} AND {shown}" + (" FOR UPDATE OF c" if lock else ""),
            comment_id,
            *args,
        )
        if not rows:
            raise NotFound("no such comment", code="comment_not_found")
        try:
            await self._videos.visible(rows[0]["video_id"], viewer)
        except NotFound as exc:
            raise NotFound("no such comment", code="comment_not_found") from exc
        return rows[0]

    async def get(self, comment_id: int, viewer: Principal | None) -> Comment:
        return comment_from_row(await self._load(comment_id, viewer))

    async def newest(
        self, video_id: uuid.UUID, viewer: Principal | None, cursor: str | None, limit: int
    ) -> CommentPage:
        """Top-level comments of a video, newest first."""
        await self._videos.visible(video_id, viewer)
        shown, args = shown_to(viewer)
        conditions, values = ["c.video_id = {}", "c.root_id IS NULL", shown], [video_id, *args]
        return await self._page(conditions, values, _NEWEST, cursor, limit)

    async def thread(
        self, root_id: int, viewer: Principal | None, cursor: str | None, limit: int
    ) -> CommentPage:
        """The replies of a top-level comment, oldest first, as a conversation reads."""
        root = await self._load(root_id, viewer)
        if root["root_id"] is not None:
            raise BadRequest(
                f"comment {root_id} is a reply; its thread is that of comment {root['root_id']}",
                code="not_a_thread",
                details={"root_id": root["root_id"]},
            )
        shown, args = shown_to(viewer)
        conditions, values = ["c.root_id = {}", shown], [root_id, *args]
        return await self._page(conditions, values, _OLDEST, cursor, limit)

    async def timeline(
        self,
        video_id: uuid.UUID,
        viewer: Principal | None,
        start: float,
        end: float | None,
        cursor: str | None,
        limit: int,
    ) -> CommentPage:
        """Comments anchored to a media position in ``[start, end)``, in playback order, for
        replaying them to a later viewer at the moment they were written."""
        await self._videos.visible(video_id, viewer)
        shown, args = _with_root_shown(viewer)
        conditions = ["c.video_id = {}", "c.position_seconds IS NOT NULL", "c.position_seconds >= {}", shown]
        values: list[Any] = [video_id, start, *args]
        if end is not None:
            conditions.append("c.position_seconds < {}")
            values.append(end)
        return await self._page(conditions, values, _PLAYBACK_ORDER, cursor, limit)

    async def _page(
        self, conditions: list[str], values: list[Any], keyset: Keyset, cursor: str | None, limit: int
    ) -> CommentPage:
        rows, next_cursor = await page_rows(
            self._db, SELECT_COMMENT, conditions, values, keyset, cursor, limit
        )
        return CommentPage(items=[comment_from_row(row) for row in rows], next_cursor=next_cursor)

    # Writing ------------------------------------------------------------------------------------

    def _clean(self, body: str) -> str:
        text = body.strip()
        if not text:
            raise BadRequest("a comment needs some text", code="empty_comment")
        if len(text) > self._max_chars:
            raise BadRequest(
                f"a comment has at most {self._max_chars} characters",
                code="comment_too_long",
                details={"max_chars": self._max_chars, "chars": len(text)},
            )
        if _CONTROL.search(text):
            raise BadRequest("a comment is plain text without control characters", code="invalid_characters")
        return text

    async def create(self, author: Principal, video_id: uuid.UUID, form: NewComment) -> Comment:
        video = await self._videos.visible(video_id, author)
        body = self._clean(form.body)
        root_id: int | None = None
        if form.parent_id is not None:
            parent = await self._load(form.parent_id, author)
            if parent["video_id"] != video_id or parent["status"] != "visible":
                raise NotFound("no such comment to reply to on this video", code="comment_not_found")
            root_id = parent["root_id"] or parent["id"]
        position = form.position_seconds
        if position is not None and video.duration_seconds is not None and position > video.duration_seconds:
            raise BadRequest(
                "the position is past the end of the video",
                code="position_out_of_range",
                details={"duration_seconds": video.duration_seconds},
            )
        held = await self._policy.may_comment(author, video_id, body)
        if not held and root_id is None and not notices.mentioned_handles(body):
            return await post_plain(self._db, author, video_id, body, position)  # nobody to notify
        status: Literal["visible", "held"] = "held" if held else "visible"
        async with self._db.engine.transaction():
            (row,) = await self._db.fetch(
                "INSERT INTO comments (video_id, author_id, parent_id, root_id, body, position_seconds,"
                " status, flagged_at) VALUES ({}, {}, {}, {}, {}, {}, {}, CASE WHEN {} THEN now() END)"
                " RETURNING id, created_at",
                video_id,
                author.id,
                form.parent_id,
                root_id,
                body,
                position,
                status,
                held,
            )
            comment = Comment(
                id=row["id"],
                video_id=video_id,
                author=UserRef(id=author.id, handle=author.handle),
                body=body,
                parent_id=form.parent_id,
                root_id=root_id,
                position_seconds=position,
                status=status,
                reply_count=0,
                created_at=row["created_at"],
                edited_at=None,
            )
            if not held:
                await self._go_public(comment)
        return comment

    async def edit(self, author: Principal, comment_id: int, change: CommentChange) -> Comment:
        body = self._clean(change.body)
        async with self._db.engine.transaction():
            row = await self._load(comment_id, author, lock=True)
            if row["author_id"] != author.id:
                raise Forbidden("only its author may edit a comment", code="not_author")
            if float(row["age_seconds"]) > self._edit_seconds:
                raise Forbidden(
                    f"a comment can be edited for {self._edit_seconds} s after it was posted",
                    code="edit_window_closed",
                    details={"edit_seconds": self._edit_seconds},
                )
            held = await self._policy.may_comment(author, row["video_id"], body, new=False)
            if row["status"] == "visible" and held:
                await self._hide(row, "held")
            (changed,) = await self._db.fetch(
                "UPDATE comments SET body = {}, edited_at = now(),"
                " status = CASE WHEN {} THEN 'held' ELSE status END,"
                " flagged_at = CASE WHEN {} THEN COALESCE(flagged_at, now()) ELSE flagged_at END"
                " WHERE id = {} RETURNING edited_at, status",
                body,
                held,
                held,
                comment_id,
            )
            comment = comment_from_row({**row, "body": body, **changed})
            if comment.status == "visible":
                edited = encoder.encode(CommentEdited(comment))
                key = await enqueue(self._db, channel_name("video", comment.video_id), edited)
                await self._remember(comment.id, key)
        return comment

    async def delete(self, actor: Principal, comment_id: int) -> None:
        """Its author deletes a comment (the text is erased); a moderator's delete is a removal."""
        async with self._db.engine.transaction():
            row = await self._load(comment_id, actor, lock=True)
            if row["author_id"] == actor.id:
                await self._take_down(row, "deleted", actor, "")
            elif actor.has_role(*STAFF):
                await self._policy.may_moderate(actor)  # a restricted moderator has no powers
                await self._take_down(row, "removed", actor, "")
            else:
                raise Forbidden("only its author or a moderator may delete a comment", code="not_author")

    async def remove(self, moderator: Principal, comment_id: int, reason: str) -> None:
        """A moderator takes a comment down; the row stays, hidden, for the audit trail."""
        async with self._db.engine.transaction():
            row = await self._load(comment_id, moderator, lock=True)
            await self._take_down(row, "removed", moderator, reason)

    async def approve(self, moderator: Principal, comment_id: int, reason: str) -> Comment:
        """Let a held comment through, or clear a reported one: either way its reports close."""
        async with self._db.engine.transaction():
            row = await self._load(comment_id, moderator, lock=True)
            if row["status"] == "held":
                was = "held"
                await self._db.fetch(
                    "UPDATE comments SET status = 'visible', flagged_at = NULL WHERE id = {}", comment_id
                )
                comment = comment_from_row({**row, "status": "visible"})
                await self._go_public(comment)
                if row["root_id"] is None:  # its thread was withdrawn with it: it goes out again
                    replies = await self._db.fetch(
                        SELECT_COMMENT + " WHERE c.root_id = {} AND c.status = 'visible' ORDER BY c.id",
                        comment_id,
                    )
                    for reply in replies:
                        await self._go_public(comment_from_row(reply))
            elif row["flagged_at"] is not None:
                was = "reported"
                await self._db.fetch("UPDATE comments SET flagged_at = NULL WHERE id = {}", comment_id)
                comment = comment_from_row(row)
            else:
                raise Conflict("this comment is neither held nor reported", code="nothing_to_review")
            reports = await self._close_reports(comment_id)
            if was == "held":
                await notices.moderated(
                    self._db, row["author_id"], moderator.id, comment_id, row["video_id"], "approved", reason
                )
            await audit.log(
                self._db,
                moderator,
                "comment.approve",
                reason=reason,
                video_id=row["video_id"],
                comment_id=comment_id,
                target_user_id=row["author_id"],
                details={"was": was, "reports": reports},
            )
        return comment

    async def report(self, reporter: Principal, comment_id: int, form: NewReport) -> None:
        row = await self._load(comment_id, reporter)
        await self._policy.may_participate(reporter, row["video_id"])
        await self._throttle.hit(
            self._report_rate, "report", str(reporter.id), code="too_fast", message="too many reports"
        )
        if row["status"] != "visible":
            raise Conflict("this comment is already waiting for review", code="already_held")
        async with self._db.engine.transaction():
            await self._db.fetch(
                "INSERT INTO comment_reports (comment_id, reporter_id, reason) VALUES ({}, {}, {})"
                " ON CONFLICT (comment_id, reporter_id) DO UPDATE"
                " SET reason = EXCLUDED.reason, created_at = now(), resolved_at = NULL",
                comment_id,
                reporter.id,
                form.reason,
            )
            await self._db.fetch(
                "UPDATE comments SET flagged_at = COALESCE(flagged_at, now()) WHERE id = {}", comment_id
            )

    # Inside a transaction -------------------------------------------------------------------------

    async def _go_public(self, comment: Comment) -> None:
        """The comment became visible: its live event, and the author's activity for the feed.

        The feed item pushed to followers carries an excerpt, so its key is remembered too
        (prefixed ``feed:``), to be withdrawn with the comment's own events. All in one statement
        (the event, the activity, its push, the keys, the relay's wake-up): this is the path of
        every comment posted, and each round trip costs the API more than the rows do."""
        activity, activity_args = record_ctes(
            comment.author.id,
            "commented",
            video_id=comment.video_id,
            object_id=str(comment.id),
            data={"excerpt": comment.body[:EXCERPT_CHARS]},
            after="event",
        )
        await self._db.fetch(
            "WITH event AS (INSERT INTO outbox (channel, payload) VALUES ({}, {}) RETURNING id), "
            + activity
            + " UPDATE comments SET publication_keys = publication_keys"
            " || ARRAY[{} || event.id, {} || activity_push.id]"
            " FROM event, activity_push WHERE comments.id = {} RETURNING pg_notify({}, '')",
            channel_name("video", comment.video_id),
            encoder.encode(CommentCreated(comment)),
            *activity_args,
            KEY_PREFIX,
            _FEED_KEY + KEY_PREFIX,
            comment.id,
            NOTIFY_CHANNEL,
        )
        await notices.comment_public(self._db, comment)

    async def _remember(self, comment_id: int, key: str) -> None:
        await self._db.fetch(
            "UPDATE comments SET publication_keys = array_append(publication_keys, {}) WHERE id = {}",
            key,
            comment_id,
        )

    async def _hide(self, row: dict[str, Any], reason: Literal["deleted", "removed", "held"]) -> None:
        """The comment stops being public, and with a top-level one its thread: withdraw every
        event that carried their text (created, edited), tell live clients, drop their activities
        (the feed must not point at a comment nobody may read). The history changes only once
        this transaction commits (``withdraw``)."""
        video = channel_name("video", row["video_id"])
        hidden = await self._db.fetch(
            "UPDATE comments c SET publication_keys = ARRAY[]::text[]"
            " FROM (SELECT id, publication_keys FROM comments WHERE id = {} OR root_id = {} FOR UPDATE) old"
            " WHERE c.id = old.id RETURNING c.id, c.author_id, old.publication_keys",
            row["id"],
            row["id"] if row["root_id"] is None else None,
        )
        keys = [key for h in hidden for key in h["publication_keys"]]
        await withdraw(self._db, [video], [key for key in keys if not key.startswith(_FEED_KEY)])
        await self._withdraw_feed_items(hidden)
        await notices.comments_hidden(self._db, [h["id"] for h in hidden])
        removed = CommentRemoved(
            video_id=row["video_id"], comment_id=row["id"], root_id=row["root_id"], reason=reason
        )
        await enqueue(self._db, video, encoder.encode(removed))
        await self._db.fetch(
            "DELETE FROM activities WHERE actor_id = ANY({}) AND verb = 'commented' AND object_id = ANY({})",
            list({h["author_id"] for h in hidden}),
            [str(h["id"]) for h in hidden],
        )

    async def _withdraw_feed_items(self, hidden: list[dict[str, Any]]) -> None:
        """The ``feed.item``s that carried the comments' excerpts left their authors' followers'
        channels (``user:{id}``): withdraw them there too."""
        for author in {h["author_id"] for h in hidden}:
            keys = [
                key.removeprefix(_FEED_KEY)
                for h in hidden
                if h["author_id"] == author
                for key in h["publication_keys"]
                if key.startswith(_FEED_KEY)
            ]
            if keys:
                followers = await self._db.fetch(
                    "SELECT follower_id FROM follows WHERE followee_id = {}", author
                )
                await withdraw(self._db, [channel_name("user", f["follower_id"]) for f in followers], keys)

    async def _take_down(self, row: dict[str, Any], how: TakeDown, actor: Principal, reason: str) -> None:
        if row["status"] == "visible":
            await self._hide(row, how)
        await self._db.fetch(
            "UPDATE comments SET status = {}, body = CASE WHEN {} THEN '' ELSE body END, flagged_at = NULL,"
            " hidden_at = now(), hidden_by = {} WHERE id = {}",
            how,
            how == "deleted",
            actor.id,
            row["id"],
        )
        reports = await self._close_reports(row["id"])
        if how == "removed":
            await notices.moderated(
                self._db, row["author_id"], actor.id, row["id"], row["video_id"], "removed", reason
            )
            await audit.log(
                self._db,
                actor,
                "comment.remove" if row["status"] == "visible" else "comment.reject",
                reason=reason,
                video_id=row["video_id"],
                comment_id=row["id"],
                target_user_id=row["author_id"],
                details={"reports": reports},
            )

    async def _close_reports(self, comment_id: int) -> int:
        rows = await self._db.fetch(
            "UPDATE comment_reports SET resolved_at = now() WHERE comment_id = {} AND resolved_at IS NULL"
            " RETURNING reporter_id",
            comment_id,
        )
        return len(rows)

"""The comments' personal data part: what a user wrote and reported (docs/privacy.md, "Comments").

Erasure policy: a comment nobody else answered is deleted. One that another user's comment
answers (its thread's root, or the parent of a reply) stays, so their thread still reads: its
text becomes ``[deleted]`` and its author the stand-in user ``[deleted]``. Either way connected
clients are told (``comment.removed``, or ``comment.edited`` with the new text), and the outbox
part withdraws the earlier events that carried the text from the channel's history.

Comments go in batches, one transaction each, so a crashed erasure continues with what is left.
"""

from __future__ import annotations

import uuid

from app.comments.events import CommentEdited, CommentRemoved, encoder
from app.comments.service import SELECT_COMMENT, comment_from_row
from app.privacy.parts import Exported
from core.db import Database
from graph.events import UserChanged, enqueue_change
from realtime.channels import channel_name
from realtime.outbox import enqueue_many

ERASED_AUTHOR = uuid.UUID(int=0)
ERASED_HANDLE = "[deleted]"
ERASED_BODY = "[deleted]"
BATCH = 1000


async def ensure_erased_author(db: Database) -> None:
    """The stand-in author exists (added by the first erasure, not by a migration), in the graph
    projection too, like any user."""
    async with db.engine.transaction():
        added = await db.fetch(
            "INSERT INTO users (id, handle, role) VALUES ({}, {}, 'viewer')"
            " ON CONFLICT DO NOTHING RETURNING id",
            ERASED_AUTHOR,
            ERASED_HANDLE,
        )
        if added:
            await enqueue_change(db, UserChanged(str(ERASED_AUTHOR)))


class CommentsPart:
    name = "comments"
    store = "main"

    def __init__(self, db: Database, batch: int = BATCH) -> None:
        self._db = db
        self._batch = batch

    async def export(self, user_id: uuid.UUID) -> Exported:
        comments = await self._db.fetch(
            "SELECT id, video_id, parent_id, root_id, body, position_seconds, status, created_at,"
            " edited_at FROM comments WHERE author_id = {} ORDER BY id",
            user_id,
        )
        reports = await self._db.fetch(
            "SELECT comment_id, reason, created_at, resolved_at FROM comment_reports"
            " WHERE reporter_id = {} ORDER BY created_at",
            user_id,
        )
        return Exported(records={"comments": comments, "comment_reports": reports})

    async def erase(self, user_id: uuid.UUID) -> dict[str, int]:
        deleted = anonymised = 0
        await ensure_erased_author(self._db)
        while True:
            async with self._db.engine.transaction():
                batch = await self._db.fetch(
                    "SELECT id FROM comments WHERE author_id = {} ORDER BY id LIMIT {} FOR UPDATE",
                    user_id,
                    self._batch,
                )
                if not batch:
                    break
                ids = [row["id"] for row in batch]
                answered = await self._db.fetch(
                    "SELECT parent_id AS id FROM comments WHERE parent_id = ANY({}) AND author_id <> {}"
                    " UNION SELECT root_id FROM comments WHERE root_id = ANY({}) AND author_id <> {}",
                    ids,
                    user_id,
                    ids,
                    user_id,
                )
                keep = [row["id"] for row in answered]
                anonymised += await self._anonymise(keep)
                deleted += await self._delete([i for i in ids if i not in set(keep)])
        reports = await self._db.fetch(
            "DELETE FROM comment_reports WHERE reporter_id = {} RETURNING comment_id", user_id
        )
        return {
            "comments_deleted": deleted,
            "comments_anonymised": anonymised,
            "comment_reports": len(reports),
        }

    async def _anonymise(self, ids: list[int]) -> int:
        if not ids:
            return 0
        await self._db.fetch(
            "UPDATE comments SET author_id = {}, body = {}, edited_at = NULL,"
            " publication_keys = ARRAY[]::text[] WHERE id = ANY({})",
            ERASED_AUTHOR,
            ERASED_BODY,
            ids,
        )
        shown = await self._db.fetch(
            SELECT_COMMENT + " WHERE c.id = ANY({}) AND c.status = 'visible' ORDER BY c.id", ids
        )
        events = []
        for row in shown:
            comment = comment_from_row(row)
            events.append((channel_name("video", comment.video_id), encoder.encode(CommentEdited(comment))))
        await enqueue_many(self._db, events)
        return len(ids)

    async def _delete(self, ids: list[int]) -> int:
        if not ids:
            return 0
        gone = await self._db.fetch(
            "DELETE FROM comments WHERE id = ANY({}) RETURNING id, video_id, root_id, status", ids
        )
        removals = [
            CommentRemoved(
                video_id=row["video_id"], comment_id=row["id"], root_id=row["root_id"], reason="deleted"
            )
            for row in gone
            if row["status"] == "visible"
        ]
        await enqueue_many(
            self._db, [(channel_name("video", r.video_id), encoder.encode(r)) for r in removals]
        )
        await self._db.fetch(
            "DELETE FROM activities WHERE verb = 'commented' AND object_id = ANY({})", [str(i) for i in ids]
        )
        return len(gone)

    async def residue(self, user_id: uuid.UUID) -> list[str]:
        rows = await self._db.fetch(
            "SELECT (SELECT count(*) FROM comments WHERE author_id = {}) AS comments,"
            " (SELECT count(*) FROM comment_reports WHERE reporter_id = {}) AS reports",
            user_id,
            user_id,
        )
        found = []
        if rows[0]["comments"]:
            found.append(f"{rows[0]['comments']} comments by the user")
        if rows[0]["reports"]:
            found.append(f"{rows[0]['reports']} comment reports by the user")
        return found

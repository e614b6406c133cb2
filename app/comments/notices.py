"""Who hears of a comment: the author of the comment it replies to, the people it mentions, and
its author when a moderator acts on it. Called inside the transaction of the comment's change.

Only people who may see the video are told (a mention in a private video's comment reaches its
owner, members and staff, nobody else); the rules every notification follows (own actions,
mutes, blocks, settings, grouping) are the notifications feature's.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from typing import Literal

from app.comments.schemas import Comment
from app.notifications.notify import notify, retract
from core.db import Database

EXCERPT_CHARS = 140
MAX_MENTIONS = 20  # handles of one comment that are notified; the rest are just text
# "@ada" not preceded by a handle character or another "@" (so not in "me@ada.com").
_MENTION = re.compile(r"(?<![A-Za-z0-9_@.])@([A-Za-z0-9_]{3,30})(?![A-Za-z0-9_])")

ModeratorAction = Literal["removed", "approved"]


def mentioned_handles(body: str) -> list[str]:
    """The distinct handles ``body`` mentions, in order, lower-cased, at most ``MAX_MENTIONS``."""
    handles: list[str] = []
    for match in _MENTION.finditer(body):
        handle = match.group(1).lower()
        if handle not in handles:
            handles.append(handle)
    return handles[:MAX_MENTIONS]


def source(comment_id: int) -> str:
    return f"comment:{comment_id}"


async def _readers(db: Database, video_id: uuid.UUID, where: str, value: object) -> list[dict[str, object]]:
    """Users (``where`` on ``u``) who may see the video: the rule of ``VideoService.visible``."""
    return await db.fetch(
        "SELECT u.id, u.handle FROM users u JOIN videos v ON v.id = {} WHERE " + where + " AND"
        " (v.visibility <> 'private' OR u.id = v.owner_id OR u.role IN ('moderator', 'admin')"
        " OR EXISTS (SELECT 1 FROM video_members m WHERE m.video_id = v.id AND m.user_id = u.id))",
        video_id,
        value,
    )


async def comment_public(db: Database, comment: Comment) -> None:
    """The comment became public: tell whom it replies to and whom it mentions."""
    replied_to: object = None
    if comment.parent_id is not None:
        parent = await db.fetch("SELECT author_id FROM comments WHERE id = {}", comment.parent_id)
        if parent and await _readers(db, comment.video_id, "u.id = {}", parent[0]["author_id"]):
            replied_to = parent[0]["author_id"]
            await notify(
                db,
                parent[0]["author_id"],
                "reply",
                actor_id=comment.author.id,
                source=source(comment.id),
                group_key=source(comment.parent_id),
                video_id=comment.video_id,
                comment_id=comment.parent_id,
                data={"reply_id": comment.id},
            )
    handles = mentioned_handles(comment.body)
    if not handles:
        return
    for user in await _readers(db, comment.video_id, "u.handle = ANY({})", handles):
        if user["id"] == replied_to:
            continue  # the reply already tells them
        assert isinstance(user["id"], uuid.UUID)
        await notify(
            db,
            user["id"],
            "mention",
            actor_id=comment.author.id,
            source=source(comment.id),
            group_key=source(comment.id),
            video_id=comment.video_id,
            comment_id=comment.id,
            data={"excerpt": comment.body[:EXCERPT_CHARS]},
        )


async def comments_hidden(db: Database, comment_ids: Sequence[int]) -> None:
    """The comments stopped being public: their replies and mentions leave everyone's
    notifications, read or not (their text is gone)."""
    if comment_ids:
        await retract(db, ("reply", "mention"), sources=[source(c) for c in comment_ids], unread_only=False)


async def moderated(
    db: Database,
    author_id: uuid.UUID,
    moderator_id: uuid.UUID,
    comment_id: int,
    video_id: uuid.UUID,
    action: ModeratorAction,
    reason: str,
) -> None:
    """Tell a comment's author what a moderator did to it (not who: moderators act as the
    platform); nothing when the moderator is the author."""
    if author_id == moderator_id:
        return
    await notify(
        db,
        author_id,
        "moderation",
        group_key=source(comment_id),
        video_id=video_id,
        comment_id=comment_id,
        data={"action": action, "reason": reason},
    )

"""REST endpoints of moderation. Moderators and admins use them; the audit log is for admins.

Every moderation endpoint takes the ``moderator`` dependency: staff (by the current role) under
no restriction in force.
"""

from __future__ import annotations

import uuid

from litestar import Controller, delete, get, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody

from app.auth.dependencies import require_role
from app.comments.schemas import Comment, ModeratorNote
from app.comments.service import CommentService
from app.moderation.schemas import (
    HeldWord,
    HeldWordPage,
    Lift,
    LogPage,
    NewHeldWord,
    NewRestriction,
    QueuePage,
    Restriction,
    RestrictionPage,
    SlowMode,
    SlowModeChange,
)
from app.moderation.service import ModerationService
from core.pagination import Cursor, Limit
from core.params import IdPath
from core.tokens import Principal


async def provide_moderator(
    principal: NamedDependency[Principal], moderation: NamedDependency[ModerationService]
) -> Principal:
    """The ``moderator`` dependency: 403 ``forbidden_role``, ``banned`` or ``timed_out`` otherwise."""
    await moderation.authorize(principal)
    return principal


class ModerationController(Controller):
    tags = ("moderation",)
    dependencies = {"moderator": Provide(provide_moderator)}  # noqa: RUF012 - Litestar reads it as is

    @get("/moderation/queue")
    async def queue(
        self,
        moderator: NamedDependency[Principal],
        moderation: NamedDependency[ModerationService],
        cursor: Cursor = None,
        limit: Limit = 20,
    ) -> QueuePage:
        """Held and reported comments, longest waiting first."""
        return await moderation.queue(cursor, limit)

    @post("/moderation/comments/{comment_id:int}/approve", status_code=200)
    async def approve(
        self,
        comment_id: IdPath,
        data: JSONBody[ModeratorNote],
        moderator: NamedDependency[Principal],
        comments: NamedDependency[CommentService],
    ) -> Comment:
        """Publish a held comment, or keep a reported one and close its reports."""
        return await comments.approve(moderator, comment_id, data.reason)

    @post("/moderation/comments/{comment_id:int}/remove", status_code=204)
    async def remove(
        self,
        comment_id: IdPath,
        data: JSONBody[ModeratorNote],
        moderator: NamedDependency[Principal],
        comments: NamedDependency[CommentService],
    ) -> None:
        """Take a comment down (a held one: reject it). It disappears live and from history."""
        await comments.remove(moderator, comment_id, data.reason)

    @get("/moderation/restrictions")
    async def restrictions(
        self,
        moderator: NamedDependency[Principal],
        moderation: NamedDependency[ModerationService],
        user_id: FromQuery[uuid.UUID | None] = None,
        video_id: FromQuery[uuid.UUID | None] = None,
        cursor: Cursor = None,
        limit: Limit = 20,
    ) -> RestrictionPage:
        """Timeouts and bans in force, newest first."""
        return await moderation.restrictions(user_id, video_id, cursor, limit)

    @post("/moderation/restrictions", status_code=201)
    async def restrict(
        self,
        data: JSONBody[NewRestriction],
        moderator: NamedDependency[Principal],
        moderation: NamedDependency[ModerationService],
    ) -> Restriction:
        """Time a user out (``seconds``) or ban them, on one video or everywhere."""
        return await moderation.restrict(moderator, data)

    @post("/moderation/restrictions/{restriction_id:int}/lift", status_code=200)
    async def lift(
        self,
        restriction_id: IdPath,
        data: JSONBody[Lift],
        moderator: NamedDependency[Principal],
        moderation: NamedDependency[ModerationService],
    ) -> Restriction:
        return await moderation.lift(moderator, restriction_id, data.reason)

    @get("/videos/{video_id:uuid}/slow-mode")
    async def slow_mode(
        self,
        video_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal | None],
        moderation: NamedDependency[ModerationService],
    ) -> SlowMode:
        """Anyone who sees the video may read its pace, so clients can show it."""
        return await moderation.slow_mode(video_id, viewer)

    @put("/videos/{video_id:uuid}/slow-mode")
    async def set_slow_mode(
        self,
        video_id: FromPath[uuid.UUID],
        data: JSONBody[SlowModeChange],
        moderator: NamedDependency[Principal],
        moderation: NamedDependency[ModerationService],
    ) -> SlowMode:
        return await moderation.set_slow_mode(moderator, video_id, data)

    @get("/moderation/held-words")
    async def held_words(
        self,
        moderator: NamedDependency[Principal],
        moderation: NamedDependency[ModerationService],
        video_id: FromQuery[uuid.UUID | None] = None,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> HeldWordPage:
        """The global list and, with ``video_id``, that video's own words, oldest first."""
        return await moderation.held_words(video_id, cursor, limit)

    @post("/moderation/held-words", status_code=201)
    async def add_held_word(
        self,
        data: JSONBody[NewHeldWord],
        moderator: NamedDependency[Principal],
        moderation: NamedDependency[ModerationService],
    ) -> HeldWord:
        """Comments containing this word or phrase (whole, any case) wait for review."""
        return await moderation.add_held_word(moderator, data)

    @delete("/moderation/held-words/{word_id:int}", status_code=204)
    async def remove_held_word(
        self,
        word_id: IdPath,
        moderator: NamedDependency[Principal],
        moderation: NamedDependency[ModerationService],
    ) -> None:
        await moderation.remove_held_word(moderator, word_id)

    @get("/moderation/log")
    async def log(
        self,
        principal: NamedDependency[Principal],
        moderation: NamedDependency[ModerationService],
        video_id: FromQuery[uuid.UUID | None] = None,
        user_id: FromQuery[uuid.UUID | None] = None,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> LogPage:
        """Every moderation action (who, what, when, why), newest first; admins only."""
        require_role(principal, "admin")
        return await moderation.log(video_id, user_id, cursor, limit)

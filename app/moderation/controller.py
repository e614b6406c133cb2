"""REST endpoints of moderation. Moderators and admins use them; the audit log is for admins."""

from __future__ import annotations

import uuid

from litestar import Controller, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from app.auth.dependencies import require_role
from app.auth.tokens import Principal
from app.comments.schemas import Comment, ModeratorNote
from app.comments.service import CommentService
from app.moderation.schemas import (
    HeldWord,
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
from app.pagination import Cursor, Limit
from app.params import IdPath
from app.videos.service import STAFF


class ModerationController(Controller):
    tags = ("moderation",)

    @get("/moderation/queue")
    async def queue(
        self,
        principal: NamedDependency[Principal],
        moderation: NamedDependency[ModerationService],
        cursor: Cursor = None,
        limit: Limit = 20,
    ) -> QueuePage:
        """Held and reported comments, longest waiting first."""
        require_role(principal, *STAFF)
        return await moderation.queue(cursor, limit)

    @post("/moderation/comments/{comment_id:int}/approve", status_code=200)
    async def approve(
        self,
        comment_id: IdPath,
        data: JSONBody[ModeratorNote],
        principal: NamedDependency[Principal],
        comments: NamedDependency[CommentService],
    ) -> Comment:
        """Publish a held comment, or keep a reported one and close its reports."""
        require_role(principal, *STAFF)
        return await comments.approve(principal, comment_id, data.reason)

    @post("/moderation/comments/{comment_id:int}/remove", status_code=204)
    async def remove(
        self,
        comment_id: IdPath,
        data: JSONBody[ModeratorNote],
        principal: NamedDependency[Principal],
        comments: NamedDependency[CommentService],
    ) -> None:
        """Take a comment down (a held one: reject it). It disappears live and from history."""
        require_role(principal, *STAFF)
        await comments.remove(principal, comment_id, data.reason)

    @get("/moderation/restrictions")
    async def restrictions(
        self,
        principal: NamedDependency[Principal],
        moderation: NamedDependency[ModerationService],
        user_id: FromQuery[uuid.UUID | None] = None,
        video_id: FromQuery[uuid.UUID | None] = None,
        cursor: Cursor = None,
        limit: Limit = 20,
    ) -> RestrictionPage:
        """Timeouts and bans in force, newest first."""
        require_role(principal, *STAFF)
        return await moderation.restrictions(user_id, video_id, cursor, limit)

    @post("/moderation/restrictions", status_code=201)
    async def restrict(
        self,
        data: JSONBody[NewRestriction],
        principal: NamedDependency[Principal],
        moderation: NamedDependency[ModerationService],
    ) -> Restriction:
        """Time a user out (``seconds``) or ban them, on one video or everywhere."""
        require_role(principal, *STAFF)
        return await moderation.restrict(principal, data)

    @post("/moderation/restrictions/{restriction_id:int}/lift", status_code=200)
    async def lift(
        self,
        restriction_id: IdPath,
        data: JSONBody[Lift],
        principal: NamedDependency[Principal],
        moderation: NamedDependency[ModerationService],
    ) -> Restriction:
        require_role(principal, *STAFF)
        return await moderation.lift(principal, restriction_id, data.reason)

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
        principal: NamedDependency[Principal],
        moderation: NamedDependency[ModerationService],
    ) -> SlowMode:
        require_role(principal, *STAFF)
        return await moderation.set_slow_mode(principal, video_id, data)

    @get("/moderation/held-words")
    async def held_words(
        self,
        principal: NamedDependency[Principal],
        moderation: NamedDependency[ModerationService],
        video_id: FromQuery[uuid.UUID | None] = None,
    ) -> list[HeldWord]:
        """The global list and, with ``video_id``, that video's own words."""
        require_role(principal, *STAFF)
        return await moderation.held_words(video_id)

    @post("/moderation/held-words", status_code=201)
    async def add_held_word(
        self,
        data: JSONBody[NewHeldWord],
        principal: NamedDependency[Principal],
        moderation: NamedDependency[ModerationService],
    ) -> HeldWord:
        """Comments containing this word or phrase (whole, any case) wait for review."""
        require_role(principal, *STAFF)
        return await moderation.add_held_word(principal, data)

    @delete("/moderation/held-words/{word_id:int}", status_code=204)
    async def remove_held_word(
        self,
        word_id: IdPath,
        principal: NamedDependency[Principal],
        moderation: NamedDependency[ModerationService],
    ) -> None:
        require_role(principal, *STAFF)
        await moderation.remove_held_word(principal, word_id)

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

"""REST endpoints of comments: lists (newest, thread, timeline), post, edit, delete, report."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from app.comments.schemas import Comment, CommentChange, CommentPage, NewComment, NewReport
from app.comments.service import CommentService
from core.pagination import Cursor, Limit
from core.params import IdPath
from core.tokens import Principal

Seconds = Annotated[float, QueryParameter(ge=0, description="media position in seconds")]
MaybeSeconds = Annotated[float | None, QueryParameter(ge=0, description="media position in seconds")]


class CommentController(Controller):
    tags = ("comments",)

    @get("/videos/{video_id:uuid}/comments")
    async def newest(
        self,
        video_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal | None],
        comments: NamedDependency[CommentService],
        cursor: Cursor = None,
        limit: Limit = 20,
    ) -> CommentPage:
        """Top-level comments, newest first; each tells how many replies its thread has."""
        return await comments.newest(video_id, viewer, cursor, limit)

    @post("/videos/{video_id:uuid}/comments", status_code=201)
    async def create(
        self,
        video_id: FromPath[uuid.UUID],
        data: JSONBody[NewComment],
        principal: NamedDependency[Principal],
        comments: NamedDependency[CommentService],
    ) -> Comment:
        """Post a comment or, with ``parent_id``, a reply. ``status`` says whether it is public or
        held for review (then only its author and moderators see it)."""
        return await comments.create(principal, video_id, data)

    @get("/videos/{video_id:uuid}/comments/timeline")
    async def timeline(
        self,
        video_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal | None],
        comments: NamedDependency[CommentService],
        start: Seconds = 0.0,
        end: MaybeSeconds = None,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> CommentPage:
        """Comments anchored in ``[start, end)`` seconds of the media, in playback order."""
        return await comments.timeline(video_id, viewer, start, end, cursor, limit)

    @get("/comments/{comment_id:int}")
    async def get_one(
        self,
        comment_id: IdPath,
        viewer: NamedDependency[Principal | None],
        comments: NamedDependency[CommentService],
    ) -> Comment:
        return await comments.get(comment_id, viewer)

    @get("/comments/{comment_id:int}/replies")
    async def replies(
        self,
        comment_id: IdPath,
        viewer: NamedDependency[Principal | None],
        comments: NamedDependency[CommentService],
        cursor: Cursor = None,
        limit: Limit = 20,
    ) -> CommentPage:
        """The thread under a top-level comment, oldest first."""
        return await comments.thread(comment_id, viewer, cursor, limit)

    @patch("/comments/{comment_id:int}")
    async def edit(
        self,
        comment_id: IdPath,
        data: JSONBody[CommentChange],
        principal: NamedDependency[Principal],
        comments: NamedDependency[CommentService],
    ) -> Comment:
        """Change the text: the author only, within the edit window."""
        return await comments.edit(principal, comment_id, data)

    @delete("/comments/{comment_id:int}", status_code=204)
    async def remove(
        self,
        comment_id: IdPath,
        principal: NamedDependency[Principal],
        comments: NamedDependency[CommentService],
    ) -> None:
        """The author deletes their comment; a moderator or admin removes anyone's."""
        await comments.delete(principal, comment_id)

    @post("/comments/{comment_id:int}/reports", status_code=204)
    async def report(
        self,
        comment_id: IdPath,
        data: JSONBody[NewReport],
        principal: NamedDependency[Principal],
        comments: NamedDependency[CommentService],
    ) -> None:
        """Ask moderators to look at a comment; reporting again replaces your reason."""
        await comments.report(principal, comment_id, data)

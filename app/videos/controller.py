"""REST endpoints of the catalog: videos and the members of private videos."""

from __future__ import annotations

import uuid

from litestar import Controller, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from app.videos.schemas import MemberPage, NewVideo, Video, VideoChange, VideoPage
from app.videos.service import VideoService
from core.pagination import Cursor, Limit
from core.tokens import Principal


class VideoController(Controller):
    tags = ("videos",)

    @post("/videos", status_code=201)
    async def create(
        self,
        data: JSONBody[NewVideo],
        principal: NamedDependency[Principal],
        videos: NamedDependency[VideoService],
    ) -> Video:
        """Add a video to the catalog; the caller owns it. Media is uploaded separately."""
        return await videos.create(principal, data)

    @get("/videos")
    async def list_public(
        self,
        videos: NamedDependency[VideoService],
        cursor: Cursor = None,
        limit: Limit = 20,
    ) -> VideoPage:
        """Public videos, newest first; follow ``next_cursor`` for older ones."""
        return await videos.public(cursor, limit)

    @get("/me/videos")
    async def list_mine(
        self,
        principal: NamedDependency[Principal],
        videos: NamedDependency[VideoService],
        cursor: Cursor = None,
        limit: Limit = 20,
    ) -> VideoPage:
        """The caller's own videos, whatever their visibility, newest first."""
        return await videos.owned_by(principal, cursor, limit)

    @get("/videos/{video_id:uuid}")
    async def get_one(
        self,
        video_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal | None],
        videos: NamedDependency[VideoService],
    ) -> Video:
        """One video; a private one only for its owner, its members, moderators and admins."""
        return await videos.visible(video_id, viewer)

    @patch("/videos/{video_id:uuid}")
    async def update(
        self,
        video_id: FromPath[uuid.UUID],
        data: JSONBody[VideoChange],
        principal: NamedDependency[Principal],
        videos: NamedDependency[VideoService],
    ) -> Video:
        """Change the title, description or visibility (the owner or an admin)."""
        return await videos.update(principal, video_id, data)

    @delete("/videos/{video_id:uuid}", status_code=204)
    async def remove(
        self,
        video_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal],
        videos: NamedDependency[VideoService],
    ) -> None:
        """Delete the video with everything attached to it (the owner or an admin)."""
        await videos.delete(principal, video_id)

    @get("/videos/{video_id:uuid}/members")
    async def members(
        self,
        video_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal],
        videos: NamedDependency[VideoService],
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> MemberPage:
        """Who may see this private video besides its owner and staff, in the order they were
        added (the owner or an admin)."""
        return await videos.members(principal, video_id, cursor, limit)

    @put("/videos/{video_id:uuid}/members/{user_id:uuid}", status_code=204)
    async def add_member(
        self,
        video_id: FromPath[uuid.UUID],
        user_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal],
        videos: NamedDependency[VideoService],
    ) -> None:
        """Let a user see this video (the owner or an admin)."""
        await videos.add_member(principal, video_id, user_id)

    @delete("/videos/{video_id:uuid}/members/{user_id:uuid}", status_code=204)
    async def remove_member(
        self,
        video_id: FromPath[uuid.UUID],
        user_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal],
        videos: NamedDependency[VideoService],
    ) -> None:
        """Take a user's access away again (the owner or an admin)."""
        await videos.remove_member(principal, video_id, user_id)

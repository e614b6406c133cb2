"""REST endpoints of profiles: the public profile page, the caller's own profile and avatar, and
the avatar images themselves."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, HttpMethod, Request, Response, delete, get, patch, put, route
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from app.profiles.schemas import MyProfile, Profile, ProfileChange
from app.profiles.service import ProfileService
from app.profiles.serving import AvatarFiles
from app.videos.schemas import VideoPage
from app.videos.service import VideoService
from core.pagination import Cursor, Limit
from core.tokens import Principal


class ProfileController(Controller):
    tags = ("profiles",)

    @get("/users/{handle:str}")
    async def profile(
        self,
        handle: FromPath[str],
        viewer: NamedDependency[Principal | None],
        profiles: NamedDependency[ProfileService],
    ) -> Profile:
        """A user's public profile: display name, bio, avatar, counts and, signed in, how you
        stand with them. 404 for a user who does not exist or who blocked you."""
        return await profiles.public(handle, viewer)

    @get("/users/{handle:str}/videos")
    async def profile_videos(
        self,
        handle: FromPath[str],
        viewer: NamedDependency[Principal | None],
        profiles: NamedDependency[ProfileService],
        videos: NamedDependency[VideoService],
        cursor: Cursor = None,
        limit: Limit = 20,
    ) -> VideoPage:
        """The videos a user's profile page lists: their public videos that can be played,
        newest first, the same for every caller (the owner too: ``GET /me/videos`` has all of
        one's own). 404 ``user_not_found`` as for the profile: a user who does not exist or
        who blocked you."""
        return await videos.public_by(await profiles.visible_id(handle, viewer), cursor, limit)

    @get("/me/profile")
    async def mine(
        self, principal: NamedDependency[Principal], profiles: NamedDependency[ProfileService]
    ) -> MyProfile:
        """Your own display name, bio and avatar."""
        return await profiles.mine(principal)

    @patch("/me/profile")
    async def change(
        self,
        data: JSONBody[ProfileChange],
        principal: NamedDependency[Principal],
        profiles: NamedDependency[ProfileService],
    ) -> MyProfile:
        """Change your display name or bio (only the fields sent; null removes one). 400
        ``display_name_empty``, ``display_name_too_long``, ``display_name_invalid_characters``,
        ``bio_too_long``, ``bio_invalid_characters``."""
        return await profiles.change(principal, data)


class AvatarController(Controller):
    """Present only when media storage is configured."""

    tags = ("profiles",)

    @put("/me/avatar", status_code=200, request_max_body_size=None)
    async def upload(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        profiles: NamedDependency[ProfileService],
    ) -> MyProfile:
        """Your avatar: a JPEG, PNG, WebP or GIF picture (still, at most 40 megapixels) as the raw
        request body. It is cropped to squares of 64 and 256 pixels and re-encoded as WebP,
        without any of the picture's metadata. 413 ``avatar_too_large``; 422
        ``not_an_image``, ``avatar_svg_refused``, ``avatar_too_many_pixels``,
        ``avatar_animated``, ``avatar_damaged``, ``empty_upload``."""
        limit = profiles.max_avatar_bytes
        if request.content_length is not None and request.content_length > limit:
            raise profiles.too_large()  # before reading a byte
        received = bytearray()
        async for chunk in request.stream():
            received += chunk
            if len(received) > limit:
                raise profiles.too_large()
        return await profiles.set_avatar(principal, bytes(received))

    @delete("/me/avatar", status_code=204)
    async def remove(
        self, principal: NamedDependency[Principal], profiles: NamedDependency[ProfileService]
    ) -> None:
        """Remove your avatar (none: no change); its images stop being served."""
        await profiles.remove_avatar(principal)

    @route("/avatars/{user_id:uuid}/{digest:str}/{name:str}", http_method=[HttpMethod.GET, HttpMethod.HEAD])
    async def image(
        self,
        request: Request[Any, Any, Any],
        user_id: FromPath[uuid.UUID],
        digest: FromPath[str],
        name: FromPath[str],
        avatar_files: NamedDependency[AvatarFiles],
    ) -> Response[Any]:
        """One size of an avatar (``64.webp``, ``256.webp``), as the profile's ``avatar`` URLs
        name it: public, immutable, with an ETag."""
        head = request.method == HttpMethod.HEAD
        return await avatar_files.serve(user_id, digest, name, request.headers, head=head)

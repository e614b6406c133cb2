"""Profiles: display name, bio and avatar, and the public profile page around them.

The profile fields are personal data and live in the identity database (``ProfileStore``); the
handle, the counts and the relationships are public and live in the main database. No query
joins the two: each is asked by user id and the answers are put together here.

Avatars are pictures processed by ``app/profiles/avatars.py`` and stored in media storage under
``avatars/{user_id}/{digest}/{size}.webp``: a new picture gets a new digest, hence new URLs, so
every URL's bytes never change and are served as immutable. The previous picture's files are
deleted once the profile points at the new one.

Other features use ``names`` (how to call people in a sentence), ``cards`` (names and avatars for
lists) and, for privacy, ``export`` and ``erase``.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import msgspec

from app.identity.profiles import NameMatch, ProfileRecord, ProfileStore
from app.profiles import avatars, text
from app.profiles.schemas import (
    AvatarImage,
    MyProfile,
    PersonName,
    Profile,
    ProfileChange,
    ProfileCounts,
    ProfileRelationship,
)
from core.db import Database
from core.errors import NotFound, ServiceUnavailable
from core.tokens import Principal
from media.storage.base import Storage

AVATAR_PREFIX = "avatars"
MAX_AVATAR_BYTES = 10 * 1024 * 1024  # a phone's photo fits; anything larger is refused unread
MAX_AVATAR_PIXELS = 40_000_000  # 40 megapixels: decoded, about 160 MB at most

_COUNTS = """
SELECT (SELECT count(*) FROM follows WHERE followee_id = {}) AS followers,
       (SELECT count(*) FROM follows WHERE follower_id = {}) AS following,
       (SELECT count(*) FROM follows x JOIN follows y
            ON y.follower_id = x.followee_id AND y.followee_id = x.follower_id
        WHERE x.follower_id = {}) AS friends,
       (SELECT count(*) FROM videos WHERE owner_id = {} AND visibility = 'public' AND status = 'ready')
           AS videos
"""
_RELATIONSHIP = """
SELECT EXISTS (SELECT 1 FROM follows WHERE follower_id = {} AND followee_id = {}) AS following,
       EXISTS (SELECT 1 FROM follows WHERE follower_id = {} AND followee_id = {}) AS followed_by,
       EXISTS (SELECT 1 FROM blocks WHERE blocker_id = {} AND blocked_id = {}) AS blocked,
       EXISTS (SELECT 1 FROM blocks WHERE blocker_id = {} AND blocked_id = {}) AS blocked_by,
       EXISTS (SELECT 1 FROM mutes WHERE muter_id = {} AND muted_id = {}) AS muted
"""


def avatar_key(user_id: uuid.UUID, digest: str, size: int) -> str:
    return f"{AVATAR_PREFIX}/{user_id}/{digest}/{size}.webp"


def avatar_images(user_id: uuid.UUID, digest: str | None) -> list[AvatarImage] | None:
    """The URLs of an avatar's sizes, smallest first; None without one."""
    if digest is None:
        return None
    return [AvatarImage(size=size, url="/" + avatar_key(user_id, digest, size)) for size in avatars.SIZES]


class ProfileCard(msgspec.Struct, frozen=True):
    """What a list shows of a person beside their handle."""

    display_name: str | None
    avatar: list[AvatarImage] | None


class ProfileService:
    def __init__(
        self,
        main: Database,
        store: ProfileStore,
        storage: Storage | None,
        *,
        max_avatar_bytes: int = MAX_AVATAR_BYTES,
        max_avatar_pixels: int = MAX_AVATAR_PIXELS,
    ) -> None:
        self._main = main
        self._store = store
        self._storage = storage
        self.max_avatar_bytes = max_avatar_bytes
        self.max_avatar_pixels = max_avatar_pixels

    # The profile page ------------------------------------------------------------------------

    async def public(self, handle: str, viewer: Principal | None) -> Profile:
        """``handle``'s profile page as ``viewer`` sees it; 404 when the user blocked the viewer,
        as for a user who does not exist."""
        user = await self._user(handle)
        relationship = None
        if viewer is not None:
            relationship = await self._relationship(viewer.id, user["id"])
        counts = (await self._main.fetch(_COUNTS, *([user["id"]] * 4)))[0]
        record = await self._store.get(user["id"])
        return Profile(
            id=user["id"],
            handle=user["handle"],
            role=user["role"],
            created_at=user["created_at"],
            display_name=record.display_name if record else None,
            bio=record.bio if record else None,
            avatar=avatar_images(user["id"], record.avatar if record else None),
            counts=msgspec.convert(counts, ProfileCounts),
            relationship=relationship,
        )

    async def visible_id(self, handle: str, viewer: Principal | None) -> uuid.UUID:
        """The id of the user behind ``handle`` if ``viewer`` may see their profile page, for
        what the page lists (their videos); otherwise the page's own 404 ``user_not_found``, so a
        blocked viewer learns no more here than there."""
        user = await self._user(handle)
        if viewer is not None and viewer.id != user["id"]:
            blocked = await self._main.fetch(
                "SELECT 1 FROM blocks WHERE blocker_id = {} AND blocked_id = {}", user["id"], viewer.id
            )
            if blocked:
                raise _no_such_user()
        user_id: uuid.UUID = user["id"]
        return user_id

    async def _user(self, handle: str) -> dict[str, Any]:
        if "\x00" in handle:  # no handle holds one, and PostgreSQL cannot even compare it
            raise _no_such_user()
        rows = await self._main.fetch(
            "SELECT id, handle, role, created_at FROM users WHERE handle = {}", handle.strip().lower()
        )
        if not rows:
            raise _no_such_user()
        return rows[0]

    async def _relationship(self, me: uuid.UUID, them: uuid.UUID) -> ProfileRelationship:
        if me == them:
            return ProfileRelationship(
                is_self=True, following=False, followed_by=False, friends=False, blocked=False, muted=False
            )
        row = (await self._main.fetch(_RELATIONSHIP, me, them, them, me, me, them, them, me, me, them))[0]
        if row["blocked_by"]:
            raise _no_such_user()
        return ProfileRelationship(
            is_self=False,
            following=row["following"],
            followed_by=row["followed_by"],
            friends=row["following"] and row["followed_by"],
            blocked=row["blocked"],
            muted=row["muted"],
        )

    # The caller's own ------------------------------------------------------------------------

    async def mine(self, me: Principal) -> MyProfile:
        return _mine(me, await self._store.get(me.id))

    async def change(self, me: Principal, change: ProfileChange) -> MyProfile:
        fields: dict[str, Any] = {}
        if change.display_name is not msgspec.UNSET:
            fields["display_name"] = (
                None if change.display_name is None else text.display_name(change.display_name)
            )
        if change.bio is not msgspec.UNSET:
            fields["bio"] = None if change.bio is None else text.bio(change.bio)
        return _mine(me, await self._store.update(me.id, fields))

    async def set_avatar(self, me: Principal, data: bytes) -> MyProfile:
        """Make ``data`` (a picture) the caller's avatar: 413 past the size limit, 422 with the
        reason when it cannot be one."""
        storage = self._need_storage()
        if len(data) > self.max_avatar_bytes:
            raise self.too_large()
        processed = await asyncio.to_thread(avatars.process, data, self.max_avatar_pixels)
        for size, image in processed.images.items():
            await storage.put_bytes(avatar_key(me.id, processed.digest, size), image, avatars.CONTENT_TYPE)
        previous = await self._store.set_avatar(me.id, processed.digest)
        if previous is not None and previous != processed.digest:
            await storage.delete_prefix(f"{AVATAR_PREFIX}/{me.id}/{previous}/")
        return await self.mine(me)

    async def remove_avatar(self, me: Principal) -> None:
        """Remove the caller's avatar and its files; none: no change."""
        storage = self._need_storage()
        previous = await self._store.set_avatar(me.id, None)
        if previous is not None:
            await storage.delete_prefix(f"{AVATAR_PREFIX}/{me.id}/{previous}/")

    def too_large(self) -> avatars.AvatarTooLarge:
        return avatars.AvatarTooLarge(
            f"the picture is larger than the limit of {self.max_avatar_bytes} bytes",
            details={"max_bytes": self.max_avatar_bytes},
        )

    def _need_storage(self) -> Storage:
        if self._storage is None:
            raise ServiceUnavailable(
                "avatars need media storage, which this server has not got", code="storage_not_configured"
            )
        return self._storage

    # For other features ----------------------------------------------------------------------

    async def names(self, user_ids: list[uuid.UUID]) -> dict[uuid.UUID, PersonName]:
        """How to name each of these users in a sentence (display name, else handle); users
        that no longer exist are left out."""
        if not user_ids:
            return {}
        rows = await self._main.fetch("SELECT id, handle FROM users WHERE id = ANY({})", user_ids)
        records = await self._store.many([row["id"] for row in rows])
        return {
            row["id"]: PersonName(
                id=row["id"],
                handle=row["handle"],
                display_name=records[row["id"]].display_name if row["id"] in records else None,
            )
            for row in rows
        }

    async def cards(self, user_ids: list[uuid.UUID]) -> dict[uuid.UUID, ProfileCard]:
        """Display names and avatars of these users (those without a profile are left out)."""
        records = await self._store.many(user_ids)
        return {
            user_id: ProfileCard(
                display_name=record.display_name, avatar=avatar_images(user_id, record.avatar)
            )
            for user_id, record in records.items()
        }

    async def search_names(
        self, text: str, like_prefix: str, near: bool
    ) -> tuple[list[NameMatch], dict[uuid.UUID, ProfileCard]]:
        """Users whose display name starts with or is close to ``text`` (see ``ProfileStore``),
        and their cards, so a page of hits needs no second look-up for them."""
        matches = await self._store.search(text, like_prefix, near)
        cards = {
            match.account: ProfileCard(match.display_name, avatar_images(match.account, match.avatar))
            for match in matches
        }
        return matches, cards

    async def export(self, user_id: uuid.UUID) -> dict[str, Any]:
        """Everything profiles keep about a user, for a data export (GDPR Articles 15 and 20)."""
        record = await self._store.get(user_id)
        if record is None:
            return {"display_name": None, "bio": None, "avatar": None, "updated_at": None}
        images = avatar_images(user_id, record.avatar)
        return {
            "display_name": record.display_name,
            "bio": record.bio,
            "avatar": None if images is None else [msgspec.structs.asdict(image) for image in images],
            "updated_at": record.updated_at.isoformat(),
        }

    async def erase(self, user_id: uuid.UUID) -> None:
        """Delete a user's profile and every avatar file of theirs (erasure, GDPR Article 17)."""
        await self._store.delete(user_id)
        if self._storage is not None:
            await self._storage.delete_prefix(f"{AVATAR_PREFIX}/{user_id}/")


def _no_such_user() -> NotFound:
    return NotFound("no such user", code="user_not_found")


def _mine(me: Principal, record: ProfileRecord | None) -> MyProfile:
    return MyProfile(
        id=me.id,
        handle=me.handle,
        display_name=record.display_name if record else None,
        bio=record.bio if record else None,
        avatar=avatar_images(me.id, record.avatar) if record else None,
        updated_at=record.updated_at if record else None,
    )

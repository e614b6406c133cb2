"""The catalog's rules: who owns a video, who may see it, and how it changes.

Public and unlisted videos are visible to everyone (unlisted ones are only left out of lists);
a private video to its owner, the members the owner added, and moderators and admins. To anyone
else a private video does not exist (404), so its id reveals nothing.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec

from app.videos.media.purge import enqueue_purge
from app.videos.schemas import Member, MemberPage, NewVideo, UserRef, Video, VideoChange, VideoPage
from app.videos.stamps import ChangeStamps
from core.db import Database
from core.errors import BadRequest, Conflict, Forbidden, NotFound
from core.pagination import Keyset, page_rows
from core.tokens import Principal
from graph.events import VideoChanged, enqueue_change
from realtime.channels import channel_name
from realtime.outbox import enqueue

STAFF = ("moderator", "admin")

_SELECT = """
SELECT v.id, v.title, v.description, v.visibility, v.status, v.duration_seconds, v.failure_reason,
       v.created_at, v.updated_at, u.id AS owner_id, u.handle AS owner_handle
FROM videos v JOIN users u ON u.id = v.owner_id
"""
# The same, with whether the viewer (the first argument) is a member of each private video.
_SELECT_WITH_MEMBERSHIP = _SELECT.replace(
    "FROM videos v",
    ", v.visibility = 'private' AND EXISTS (SELECT 1 FROM video_members vm"
    " WHERE vm.video_id = v.id AND vm.user_id = {}) AS member\nFROM videos v",
)
_NEWEST = Keyset(("v.created_at", "v.id"), ("created_at", "id"), tuple[datetime, uuid.UUID])
_FIRST_ADDED = Keyset(
    ("m.added_at", "m.user_id"), ("added_at", "id"), tuple[datetime, uuid.UUID], descending=False
)


class VideoUpdated(msgspec.Struct, tag="video.updated", frozen=True):
    """Published on ``video:{id}`` when the catalog row changes (title, visibility, status)."""

    video: Video


def video_from_row(row: dict[str, Any]) -> Video:
    """A video row joined with its owner's handle (``owner_handle``), as every list of videos reads it."""
    return Video(
        id=row["id"],
        owner=UserRef(id=row["owner_id"], handle=row["owner_handle"]),
        title=row["title"],
        description=row["description"],
        visibility=row["visibility"],
        status=row["status"],
        duration_seconds=row["duration_seconds"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        failure_reason=row["failure_reason"],
    )


def playable(video: Video) -> bool:
    """Whether the video has media ready to play. Lists that offer videos to watch (recommendations,
    feeds, search) show only these: never a draft, an upload still transcoding for the first
    time, or one that failed; search's SQL says the same (``status = 'ready'``)."""
    return video.status == "ready"


def parse_id(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


class VideoService:
    def __init__(
        self, db: Database, visibility_cache_seconds: float = 5.0, stamps: ChangeStamps | None = None
    ) -> None:
        self._db = db
        self._cache_seconds = visibility_cache_seconds
        # Every change bumps the video's stamp once committed; caches of its visibility (here and
        # in the media server) keep an entry only while the stamp stays the same.
        self.stamps = stamps if stamps is not None else ChangeStamps()
        self._visibility: dict[str, tuple[float, int, str | None, uuid.UUID | None]] = {}

    async def _row(self, video_id: uuid.UUID) -> dict[str, Any] | None:
        rows = await self._db.fetch(_SELECT + " WHERE v.id = {}", video_id)
        return rows[0] if rows else None

    async def _is_member(self, video_id: uuid.UUID, user_id: uuid.UUID) -> bool:
        rows = await self._db.fetch(
            "SELECT 1 FROM video_members WHERE video_id = {} AND user_id = {}", video_id, user_id
        )
        return bool(rows)

    async def _may_view(
        self, video_id: uuid.UUID, visibility: str, owner_id: uuid.UUID, viewer: Principal | None
    ) -> bool:
        if visibility != "private":
            return True
        if viewer is None:
            return False
        if viewer.id == owner_id or viewer.has_role(*STAFF):
            return True
        return await self._is_member(video_id, viewer.id)

    async def visible(self, video_id: uuid.UUID, viewer: Principal | None) -> Video:
        """The video if ``viewer`` may see it; otherwise 404, as if it did not exist."""
        row = await self._row(video_id)
        if row is None or not await self._may_view(video_id, row["visibility"], row["owner_id"], viewer):
            raise NotFound("no such video", code="video_not_found")
        return video_from_row(row)

    async def find(self, video_id: uuid.UUID) -> Video | None:
        """The video whatever its visibility: for the system's own jobs, never for a viewer."""
        row = await self._row(video_id)
        return video_from_row(row) if row else None

    async def visible_among(
        self, video_ids: Sequence[uuid.UUID], viewer: Principal | None
    ) -> dict[uuid.UUID, Video]:
        """The videos among ``video_ids`` that ``viewer`` may see: the rule of ``visible``, for a
        whole list in one query (feeds and recommendations), membership of private ones included."""
        if not video_ids:
            return {}
        rows = await self._db.fetch(
            _SELECT_WITH_MEMBERSHIP + " WHERE v.id = ANY({})",
            viewer.id if viewer is not None else None,
            list(video_ids),
        )
        return {
            row["id"]: video_from_row(row)
            for row in rows
            if row["visibility"] != "private"
            or row["member"]
            or (viewer is not None and (viewer.id == row["owner_id"] or viewer.has_role(*STAFF)))
        }

    async def managed(self, video_id: uuid.UUID, actor: Principal) -> Video:
        """The video if ``actor`` may change it (its owner or an admin); 403 for other viewers."""
        video = await self.visible(video_id, actor)
        if video.owner.id != actor.id and not actor.has_role("admin"):
            raise Forbidden("only the video's owner may do this", code="not_owner")
        return video

    async def readable(self, video_id: str, viewer: Principal | None) -> bool:
        """May ``viewer`` read the ``video:{video_id}`` channel? Answers from a short cache, kept
        only while the video's change stamp is the same (a change on any instance shows at once).

        A channel of a video that does not exist is readable: nothing is ever published there.
        """
        parsed = parse_id(video_id)
        if parsed is None:
            return True
        now = time.monotonic()
        stamp = await self.stamps.read(parsed)
        cached = self._visibility.get(video_id)
        if cached is None or cached[0] < now or stamp is None or cached[1] != stamp:
            row = await self._row(parsed)
            cached = (
                now + self._cache_seconds,
                stamp if stamp is not None else -1,
                row["visibility"] if row else None,
                row["owner_id"] if row else None,
            )
            if len(self._visibility) > 10_000:
                self._visibility.clear()
            if stamp is not None:
                self._visibility[video_id] = cached
        _, _, visibility, owner_id = cached
        if visibility is None or owner_id is None:
            return True
        return await self._may_view(parsed, visibility, owner_id, viewer)

    async def create(self, owner: Principal, form: NewVideo) -> Video:
        video_id = uuid.uuid4()
        async with self._db.engine.transaction():
            await self._db.fetch(
                "INSERT INTO videos (id, owner_id, title, description, visibility)"
                " VALUES ({}, {}, {}, {}, {})",
                video_id,
                owner.id,
                _title(form.title),
                form.description,
                form.visibility,
            )
            await enqueue_change(self._db, VideoChanged(str(video_id)))
        return await self.visible(video_id, owner)

    async def update(self, actor: Principal, video_id: uuid.UUID, change: VideoChange) -> Video:
        await self.managed(video_id, actor)
        fields = {k: v for k, v in msgspec.structs.asdict(change).items() if v is not msgspec.UNSET}
        if "title" in fields:
            fields["title"] = _title(fields["title"])
        if not fields:
            return await self.visible(video_id, actor)
        assignments = ", ".join(f"{name} = {{}}" for name in fields)
        async with self._db.engine.transaction():
            await self._db.fetch(
                f"UPDATE videos SET {assignments}, updated_at = now() WHERE id = {{}}",
                *fields.values(),
                video_id,
            )
            video = await self.visible(video_id, actor)
            await self.announce(video)
        await self.changed(video_id)
        return video

    async def announce(self, video: Video) -> None:
        """Tell the graph and the video's live viewers that its row changed; inside a transaction."""
        await enqueue_change(self._db, VideoChanged(str(video.id)))
        await enqueue(self._db, channel_name("video", video.id), msgspec.json.encode(VideoUpdated(video)))

    async def delete(self, actor: Principal, video_id: uuid.UUID) -> None:
        await self.managed(video_id, actor)
        async with self._db.engine.transaction():
            await self._db.fetch("DELETE FROM videos WHERE id = {}", video_id)
            await enqueue_change(self._db, VideoChanged(str(video_id)))
            await enqueue_purge(self._db, video_id)
        await self.changed(video_id)

    async def changed(self, video_id: uuid.UUID) -> None:
        """After a change to the video's row commits, before it is answered: every instance's
        cached view of the video (visibility, generations) is dropped at once."""
        self._visibility.pop(str(video_id), None)
        await self.stamps.bump(video_id)

    async def public(self, cursor: str | None, limit: int) -> VideoPage:
        """Public videos, newest first."""
        return await self._page("v.visibility = 'public'", (), cursor, limit)

    async def public_by(self, owner_id: uuid.UUID, cursor: str | None, limit: int) -> VideoPage:
        """The public videos of one person that can be played, newest first: what their profile
        page lists to anyone, the owner included (``owned_by`` is the owner's full list). The
        same set the profile counts as ``videos``."""
        return await self._page(
            "v.owner_id = {} AND v.visibility = 'public' AND v.status = 'ready'", (owner_id,), cursor, limit
        )

    async def owned_by(self, owner: Principal, cursor: str | None, limit: int) -> VideoPage:
        """Every video of ``owner``, whatever its visibility, newest first."""
        return await self._page("v.owner_id = {}", (owner.id,), cursor, limit)

    async def _page(self, where: str, args: tuple[Any, ...], cursor: str | None, limit: int) -> VideoPage:
        rows, next_cursor = await page_rows(self._db, _SELECT, [where], args, _NEWEST, cursor, limit)
        return VideoPage(items=[video_from_row(row) for row in rows], next_cursor=next_cursor)

    async def members(
        self, actor: Principal, video_id: uuid.UUID, cursor: str | None, limit: int
    ) -> MemberPage:
        """Who may see the video besides its owner, in the order they were added."""
        await self.managed(video_id, actor)
        rows, next_cursor = await page_rows(
            self._db,
            "SELECT u.id, u.handle, m.added_at FROM video_members m JOIN users u ON u.id = m.user_id",
            ["m.video_id = {}"],
            (video_id,),
            _FIRST_ADDED,
            cursor,
            limit,
        )
        members = [Member(user=UserRef(id=r["id"], handle=r["handle"]), added_at=r["added_at"]) for r in rows]
        return MemberPage(items=members, next_cursor=next_cursor)

    async def add_member(self, actor: Principal, video_id: uuid.UUID, user_id: uuid.UUID) -> None:
        video = await self.managed(video_id, actor)
        if user_id == video.owner.id:
            raise Conflict("the owner can always see their video", code="owner_is_member")
        exists = await self._db.fetch("SELECT 1 FROM users WHERE id = {}", user_id)
        if not exists:
            raise NotFound("no such user", code="user_not_found")
        await self._db.fetch(
            "INSERT INTO video_members (video_id, user_id) VALUES ({}, {}) ON CONFLICT DO NOTHING",
            video_id,
            user_id,
        )

    async def remove_member(self, actor: Principal, video_id: uuid.UUID, user_id: uuid.UUID) -> None:
        await self.managed(video_id, actor)
        await self._db.fetch(
            "DELETE FROM video_members WHERE video_id = {} AND user_id = {}", video_id, user_id
        )


def _title(title: str) -> str:
    cleaned = title.strip()
    if not cleaned:
        raise BadRequest("the title must not be blank", code="invalid_title")
    return cleaned

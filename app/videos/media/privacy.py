"""The uploads' personal data part: the user's videos (their rows) and every object in storage
under each of them: the original uploads and every rendition of every generation.

The archive carries the original uploads (``videos/{id}/sources/``). Erasing a video deletes its
files first, then its row (with the graph and purge events ``DELETE /videos/{id}`` sends), so a
crash between the two leaves a row whose next erasure finds nothing more to delete in storage; the
purge event catches files a transcode still in flight writes after that. Erased videos' ids are
remembered by the erasure job (``remember``), so the audit can still look for their files.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from app.privacy.parts import Exported, StoredFile
from app.videos.media.purge import enqueue_purge
from core.db import Database
from graph.events import VideoChanged, enqueue_change
from media.storage.base import Storage

Remember = Callable[[uuid.UUID, list[uuid.UUID]], Awaitable[None]]
Remembered = Callable[[uuid.UUID], Awaitable[list[uuid.UUID]]]


def video_prefix(video_id: uuid.UUID) -> str:
    return f"videos/{video_id}/"


class UploadsPart:
    name = "uploads"
    store = "storage"

    def __init__(self, db: Database, storage: Storage, remember: Remember, remembered: Remembered) -> None:
        self._db = db
        self._storage = storage
        self._remember = remember
        self._remembered = remembered

    async def _owned(self, user_id: uuid.UUID) -> list[uuid.UUID]:
        rows = await self._db.fetch(
            "SELECT id FROM videos WHERE owner_id = {} ORDER BY created_at, id", user_id
        )
        return [row["id"] for row in rows]

    async def export(self, user_id: uuid.UUID) -> Exported:
        videos = await self._db.fetch(
            "SELECT id, title, description, visibility, status, duration_seconds, source_info, created_at,"
            " updated_at FROM videos WHERE owner_id = {} ORDER BY created_at, id",
            user_id,
        )
        access = await self._db.fetch(
            "SELECT video_id, added_at FROM video_members WHERE user_id = {} ORDER BY added_at", user_id
        )
        files = []
        for video in videos:
            for key in await self._storage.keys(video_prefix(video["id"]) + "sources/"):
                files.append(
                    StoredFile(archive_name=f"uploads/{video['id']}/{key.rsplit('/', 1)[-1]}", key=key)
                )
        return Exported(records={"videos": videos, "private_video_access": access}, files=files)

    async def erase(self, user_id: uuid.UUID) -> dict[str, int]:
        owned = await self._owned(user_id)
        await self._remember(user_id, owned)
        files = 0
        for video_id in owned:
            files += await self._storage.delete_prefix(video_prefix(video_id))
            async with self._db.engine.transaction():
                await self._db.fetch("DELETE FROM videos WHERE id = {}", video_id)
                await enqueue_change(self._db, VideoChanged(str(video_id)))
                await enqueue_purge(self._db, video_id)
        access = await self._db.fetch("DELETE FROM video_members WHERE user_id = {} RETURNING 1", user_id)
        return {"videos": len(owned), "stored_objects": files, "private_video_access": len(access)}

    async def residue(self, user_id: uuid.UUID) -> list[str]:
        found = []
        owned = await self._owned(user_id)
        if owned:
            found.append(f"{len(owned)} videos owned by the user")
        access = await self._db.fetch("SELECT count(*) AS n FROM video_members WHERE user_id = {}", user_id)
        if access[0]["n"]:
            found.append(f"{access[0]['n']} private-video access rows")
        for video_id in dict.fromkeys([*owned, *await self._remembered(user_id)]):
            keys = await self._storage.keys(video_prefix(video_id))
            if keys:
                found.append(f"{len(keys)} stored objects under {video_prefix(video_id)}")
        return found

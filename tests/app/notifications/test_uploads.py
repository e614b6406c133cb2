"""Upload ready and upload failed: written by the transcode worker in the transaction that marks
the video, on real PostgreSQL, ffmpeg and filesystem storage."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from app.videos.media.worker import TranscodeWorker
from app.videos.service import VideoService
from core.db import Database
from core.settings import Settings
from media.storage import open_storage
from media.storage.base import Storage
from media.testclips import make_test_clip
from realtime.bus.memory import MemoryBus
from server.factory import create_app, transcode_worker
from tests.app.notifications.conftest import notifications
from tests.app.video_helpers import new_video
from tests.users import Person, person

Client = AsyncTestClient[Any]


@pytest.fixture(scope="module")
async def clip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("clips") / "clip.mp4"
    await make_test_clip(path, seconds=2, width=426, height=240)
    return path.read_bytes()


@pytest.fixture(scope="module")
def media_settings(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Uploads accepted; no worker and no relay of the app's own: the test runs the worker."""
    root: Path = tmp_path_factory.mktemp("storage")
    return msgspec.structs.replace(
        settings, storage_url=root.as_uri(), media_worker=False, outbox_relay=False
    )


@pytest.fixture(scope="module")
async def api(media_settings: Settings) -> AsyncIterator[Client]:
    async with AsyncTestClient(app=create_app(media_settings)) as client:
        yield client


@pytest.fixture
async def storage(media_settings: Settings) -> AsyncIterator[Storage]:
    opened = open_storage(media_settings.storage_url)
    yield opened
    await opened.close()


async def _transcode(
    api: Client, settings: Settings, db: Database, storage: Storage, owner: Person, clip: bytes, damage: bool
) -> str:
    video = await new_video(api, owner, title="My holiday")
    response = await api.put(f"/videos/{video}/media", content=clip, headers=owner.headers)
    assert response.status_code == 202, response.text
    (job,) = await db.fetch("SELECT source_key FROM transcode_jobs WHERE video_id = {}", uuid.UUID(video))
    if damage:  # damaged after it was accepted: the transcode fails for good
        await storage.put_bytes(job["source_key"], clip[:1500] + b"\0" * 3000, "application/octet-stream")
    await db.fetch(
        "UPDATE transcode_jobs SET state = 'superseded'"
        " WHERE state IN ('queued', 'running') AND video_id <> {}",
        uuid.UUID(video),
    )
    worker: TranscodeWorker = transcode_worker(settings, db, storage, MemoryBus(), VideoService(db))
    claimed = await worker.queue.claim("test")
    assert claimed is not None and str(claimed.video_id) == video
    await worker.process(claimed)
    return video


async def test_the_owner_hears_that_an_upload_is_ready(
    api: Client, media_settings: Settings, db: Database, storage: Storage, clip: bytes
) -> None:
    owner = await person(media_settings)
    video = await _transcode(api, media_settings, db, storage, owner, clip, damage=False)
    (note,) = await notifications(api, owner)
    assert note["kind"] == "upload_ready" and note["video_id"] == video and note["actors"] == []
    assert note["data"] == {"title": "My holiday"}


async def test_the_owner_hears_that_an_upload_failed_and_why(
    api: Client, media_settings: Settings, db: Database, storage: Storage, clip: bytes
) -> None:
    owner = await person(media_settings)
    video = await _transcode(api, media_settings, db, storage, owner, clip, damage=True)
    (note,) = await notifications(api, owner)
    assert note["kind"] == "upload_failed" and note["video_id"] == video
    assert note["data"]["title"] == "My holiday" and note["data"]["reason"]
    status = (await api.get(f"/videos/{video}")).json()
    assert note["data"]["reason"] == status["failure_reason"]

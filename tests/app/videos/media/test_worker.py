"""The transcoding worker on real PostgreSQL, Redis, ffmpeg and filesystem storage: bad media fails
with its reason, a failure midway leaves nothing served, a killed worker's job is retried, and a
deleted video's files go with it."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from app.videos.media.jobs import Job
from app.videos.media.purge import MEDIA_CHANNEL, Purger
from app.videos.media.serving import MediaServer
from app.videos.media.worker import TranscodeWorker
from app.videos.service import VideoService
from core.db import Database
from core.errors import NotFound
from core.settings import Settings
from media.signing import MediaTokens
from media.storage import open_storage
from media.storage.base import ObjectInfo, Storage
from media.testclips import make_test_clip
from realtime.bus.memory import MemoryBus
from realtime.outbox import Relay
from server.factory import create_app, transcode_worker
from tests.app.video_helpers import new_video, watching
from tests.app.videos.media.waiting import media_events, settled
from tests.processes import settings_env
from tests.users import Person, person

Client = AsyncTestClient[Any]


@pytest.fixture(scope="module")
async def clip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("clips") / "clip.mp4"
    await make_test_clip(path, seconds=2, width=426, height=240)
    return path.read_bytes()


@pytest.fixture(scope="module")
def storage_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("storage")


@pytest.fixture(scope="module")
def media_settings(settings: Settings, storage_root: Path) -> Settings:
    """The API accepts uploads, but runs no worker and no relay: each test drives its own."""
    return msgspec.structs.replace(
        settings, storage_url=storage_root.as_uri(), media_worker=False, outbox_relay=False
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


def _worker(settings: Settings, db: Database, storage: Storage) -> TranscodeWorker:
    return transcode_worker(settings, db, storage, MemoryBus(), VideoService(db))


async def _upload(api: Client, owner: Person, clip: bytes) -> str:
    video = await new_video(api, owner)
    response = await api.put(f"/videos/{video}/media", content=clip, headers=owner.headers)
    assert response.status_code == 202, response.text
    return video


async def _job(db: Database, video: str) -> dict[str, Any]:
    rows = await db.fetch(
        "SELECT id, source_key, state, attempts, last_error FROM transcode_jobs WHERE video_id = {}"
        " ORDER BY id DESC LIMIT 1",
        uuid.UUID(video),
    )
    return rows[0]


async def _claim(worker: TranscodeWorker, db: Database, video: str) -> Job:
    """Claim this test's job: make it the only one open, so no other test's job is taken."""
    await db.fetch(
        "UPDATE transcode_jobs SET state = 'superseded' WHERE state IN ('queued', 'running')"
        " AND video_id <> {}",
        uuid.UUID(video),
    )
    job = await worker.queue.claim("test")
    assert job is not None and str(job.video_id) == video
    return job


def _empty(directory: Path) -> bool:
    return not any(directory.iterdir())


def _files(root: Path, video: str, under: str = "hls") -> list[Path]:
    """The video's stored objects (the filesystem backend keeps them under ``objects/<key>``)."""
    return [p for p in (root / "objects" / "videos" / video / under).rglob("*") if p.is_file()]


async def test_a_corrupt_source_fails_its_job_with_the_reason(
    api: Client, media_settings: Settings, db: Database, storage: Storage, storage_root: Path, clip: bytes
) -> None:
    owner = await person(media_settings)
    video = await _upload(api, owner, clip)
    job_row = await _job(db, video)
    # The stored source is damaged after it was accepted (a bad disk, a bad copy).
    await storage.put_bytes(job_row["source_key"], clip[:1500] + b"\0" * 3000, "application/octet-stream")
    worker = _worker(media_settings, db, storage)

    await worker.process(await _claim(worker, db, video))

    row = (await api.get(f"/videos/{video}")).json()
    assert row["status"] == "failed" and row["failure_reason"]
    assert (await _job(db, video))["state"] == "failed"
    assert _files(storage_root, video) == []
    assert (await api.get(f"/videos/{video}/playback")).json()["error"] == "media_not_ready"


class _FailingPuts(Storage):
    """Real storage whose ``put_file`` fails after ``good`` successes: an outage mid-job."""

    def __init__(self, real: Storage, good: int) -> None:
        self._real = real
        self._good = good

    async def put_file(self, key: str, path: Path, content_type: str) -> ObjectInfo:
        if self._good == 0:
            raise OSError("storage went away")
        self._good -= 1
        return await self._real.put_file(key, path, content_type)

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> ObjectInfo:
        return await self._real.put_bytes(key, data, content_type)

    async def stat(self, key: str) -> ObjectInfo | None:
        return await self._real.stat(key)

    def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        return self._real.read(key, start, end)

    async def download(self, key: str, path: Path) -> None:
        await self._real.download(key, path)

    async def delete_prefix(self, prefix: str) -> int:
        return await self._real.delete_prefix(prefix)

    async def keys(self, prefix: str) -> list[str]:
        return await self._real.keys(prefix)

    async def presigned_url(self, key: str, expires_seconds: int) -> str | None:
        return await self._real.presigned_url(key, expires_seconds)

    async def ping(self) -> None:
        await self._real.ping()

    async def close(self) -> None:
        return None


async def test_a_failure_midway_leaves_nothing_served_and_is_retried(
    api: Client, media_settings: Settings, db: Database, storage: Storage, storage_root: Path, clip: bytes
) -> None:
    owner = await person(media_settings)
    video = await _upload(api, owner, clip)
    assert _files(storage_root, video, under="sources")  # where the layout keeps them
    flaky = _worker(media_settings, db, _FailingPuts(storage, good=3))

    await flaky.process(await _claim(flaky, db, video))

    job = await _job(db, video)
    assert (job["state"], job["attempts"]) == ("queued", 1)
    assert "storage went away" in job["last_error"]
    assert _files(storage_root, video) == []  # the three files it did store were deleted
    assert (await api.get(f"/videos/{video}/playback")).status_code == 409

    await db.fetch("UPDATE transcode_jobs SET run_after = now() WHERE id = {}", job["id"])
    healthy = _worker(media_settings, db, storage)
    await healthy.process(await _claim(healthy, db, video))

    assert (await _job(db, video))["state"] == "done"
    verbs = await db.fetch("SELECT verb FROM activities WHERE video_id = {}", uuid.UUID(video))
    assert verbs == [{"verb": "uploaded"}]  # followers hear of it once it plays
    playback = (await api.get(f"/videos/{video}/playback")).json()
    assert f"/j{job['id']}a2/" in playback["master_url"]
    assert (await api.get(playback["master_url"])).status_code == 200


@pytest.fixture(scope="module")
async def long_clip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """Long enough that a worker is still transcoding when its first progress event arrives."""
    path = tmp_path_factory.mktemp("clips") / "long.mp4"
    await make_test_clip(path, seconds=12, width=854, height=480)
    return path.read_bytes()


async def _no_open_jobs(db: Database) -> None:
    await db.fetch("UPDATE transcode_jobs SET state = 'superseded' WHERE state IN ('queued', 'running')")


async def test_a_killed_worker_s_job_is_retried_by_another(
    api: Client, media_settings: Settings, db: Database, long_clip: bytes, tmp_path: Path
) -> None:
    owner = await person(media_settings)
    await _no_open_jobs(db)  # the worker process must take this test's job, not another's
    worker_settings = msgspec.structs.replace(
        media_settings,
        transcode_lease_seconds=1.5,
        transcode_poll_seconds=0.3,
        media_work_dir=str(tmp_path),  # a killed worker leaves its temporary directory behind
    )
    async with watching(media_settings) as bus:
        relay = asyncio.create_task(Relay(db, bus).run())  # media.status events reach Redis
        try:
            events = media_events(bus, owner.id)
            await bus.subscribe(f"user:{owner.id}")
            video = await _upload(api, owner, long_clip)
            first = await _start_worker(worker_settings, _log(tmp_path, "first"))
            progress = await _next_progress(events, video)
            first.send_signal(signal.SIGKILL)
            await first.wait()
            assert progress["stage"] == "transcoding" and progress["fraction"] < 1.0
            second = await _start_worker(worker_settings, _log(tmp_path, "second"))
            try:
                final = await settled(events, video, within=120)
            finally:
                second.terminate()
                with contextlib.suppress(TimeoutError):  # a worker told to stop stops, cleanly
                    await asyncio.wait_for(second.wait(), 30)
                stopped = second.returncode
                if stopped is None:  # fail, but leave no worker running behind the test
                    second.kill()
                    await second.wait()
                assert stopped == 0, _log(tmp_path, "second").read_text()[-4000:]
        finally:
            relay.cancel()
            await asyncio.gather(relay, return_exceptions=True)
    assert final["status"] == "ready"
    job = await _job(db, video)
    assert (job["state"], job["attempts"]) == ("done", 2)


async def test_a_stopped_worker_hands_its_job_back(
    api: Client, media_settings: Settings, db: Database, long_clip: bytes, tmp_path: Path
) -> None:
    owner = await person(media_settings)
    await _no_open_jobs(db)  # the worker process must take this test's job, not another's
    async with watching(media_settings) as bus:
        events = media_events(bus, owner.id)
        await bus.subscribe(f"user:{owner.id}")
        video = await _upload(api, owner, long_clip)
        worker = await _start_worker(
            msgspec.structs.replace(media_settings, media_work_dir=str(tmp_path)), _log(tmp_path, "worker")
        )
        await _next_progress(events, video)
        worker.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(worker.wait(), 30) == 0
    assert _empty(tmp_path)  # ffmpeg killed, its working directory gone

    job = await _job(db, video)
    assert (job["state"], job["attempts"]) == ("queued", 0)
    assert _files(Path(media_settings.storage_url.removeprefix("file://")), video) == []


def _log(work_dir: Path, name: str) -> Path:
    """Where a worker process logs: beside its work directory, which must end up empty."""
    return work_dir.parent / f"{work_dir.name}-{name}.log"


async def _start_worker(settings: Settings, log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as stderr:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "server.cli", "worker", env=settings_env(settings), stderr=stderr
        )


async def _next_progress(events: AsyncIterator[dict[str, Any]], video: str) -> dict[str, Any]:
    async def wait() -> dict[str, Any]:
        async for event in events:
            if event["video_id"] == video and event["type"] == "media.progress":
                return event
        raise AssertionError("the event stream ended")

    return await asyncio.wait_for(wait(), 60)


async def test_a_new_generation_is_served_at_once_whatever_the_cache(
    api: Client, media_settings: Settings, db: Database, storage: Storage, clip: bytes
) -> None:
    """A server that cached "no media yet" serves the generation another instance just announced."""
    owner = await person(media_settings)
    video = await _upload(api, owner, clip)
    tokens = MediaTokens(media_settings.jwt_secret, media_settings.jwt_issuer, 60)
    server = MediaServer(db, storage, VideoService(db), tokens, redirect=False, cache_seconds=3600)
    worker = _worker(media_settings, db, storage)
    job = await _claim(worker, db, video)
    with pytest.raises(NotFound):
        await server.serve(uuid.UUID(video), job.generation, "master.m3u8", {})

    await worker.process(job)

    response = await server.serve(uuid.UUID(video), job.generation, "master.m3u8", {})
    assert response.status_code == 200


async def test_deleting_a_video_deletes_its_files(
    api: Client, media_settings: Settings, db: Database, storage: Storage, storage_root: Path, clip: bytes
) -> None:
    owner = await person(media_settings)
    video = await _upload(api, owner, clip)
    worker = _worker(media_settings, db, storage)
    await worker.process(await _claim(worker, db, video))
    assert _files(storage_root, video)

    assert (await api.delete(f"/videos/{video}", headers=owner.headers)).status_code == 204
    await Relay(db, MemoryBus(), handlers={MEDIA_CHANNEL: Purger(storage).handle}).drain()

    assert _files(storage_root, video, under="") == []  # sources and every generation

"""A visibility change or a deletion takes effect on every instance at once (issue 19).

Two apps share one PostgreSQL and one Redis, as two gateways do. Each has served the video, so
each holds it in its cache; the change is made through one of them, and the very next unsigned
request to either is refused.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from app.videos.media.serving import MediaServer
from app.videos.media.worker import hls_prefix
from app.videos.service import VideoService
from app.videos.stamps import ChangeStamps
from core.db import Database
from core.errors import Forbidden
from core.settings import Settings
from media.signing import MediaTokens
from media.storage import open_storage
from server.factory import create_app
from tests.app.video_helpers import new_video
from tests.users import Person, person

Client = AsyncTestClient[Any]
GENERATION = "g1"
MASTER = "master.m3u8"


@pytest.fixture(scope="module")
async def first(media_settings: Settings) -> AsyncIterator[Client]:
    async with AsyncTestClient(app=create_app(media_settings)) as client:
        yield client


@pytest.fixture(scope="module")
async def second(media_settings: Settings) -> AsyncIterator[Client]:
    async with AsyncTestClient(app=create_app(media_settings)) as client:
        yield client


async def _playable(api: Client, settings: Settings, owner: Person) -> str:
    """A public video with one generation in storage, as if the worker had made it."""
    video = await new_video(api, owner)
    storage = open_storage(settings.storage_url)
    try:
        await storage.put_bytes(
            hls_prefix(video, GENERATION) + MASTER, b"#EXTM3U\n", "application/vnd.apple.mpegurl"
        )
    finally:
        await storage.close()
    connection = await asyncpg.connect(settings.database_url)
    try:
        await connection.execute(
            "UPDATE videos SET status = 'ready', media_generation = $1 WHERE id = $2",
            GENERATION,
            uuid.UUID(video),
        )
    finally:
        await connection.close()
    return video


async def _served_by_both(first: Client, second: Client, video: str) -> None:
    for api in (first, second):
        response = await api.get(f"/media/{video}/{GENERATION}/{MASTER}")
        assert response.status_code == 200, response.text


async def test_a_video_made_private_is_refused_unsigned_on_every_instance_at_once(
    first: Client, second: Client, media_settings: Settings
) -> None:
    owner = await person(media_settings)
    video = await _playable(first, media_settings, owner)
    await _served_by_both(first, second, video)  # both caches now say "public"

    response = await first.patch(f"/videos/{video}", json={"visibility": "private"}, headers=owner.headers)
    assert response.status_code == 200, response.text

    for api in (second, first):
        refused = await api.get(f"/media/{video}/{GENERATION}/{MASTER}")
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"] == "signed_url_required"


async def test_a_deleted_video_is_not_served_on_any_instance_at_once(
    first: Client, second: Client, media_settings: Settings
) -> None:
    owner = await person(media_settings)
    video = await _playable(first, media_settings, owner)
    await _served_by_both(first, second, video)

    assert (await second.delete(f"/videos/{video}", headers=owner.headers)).status_code == 204

    for api in (first, second):
        gone = await api.get(f"/media/{video}/{GENERATION}/{MASTER}")
        assert gone.status_code == 404, gone.text


async def test_a_video_made_public_again_is_served_on_every_instance(
    first: Client, second: Client, media_settings: Settings
) -> None:
    owner = await person(media_settings)
    video = await _playable(first, media_settings, owner)
    await first.patch(f"/videos/{video}", json={"visibility": "private"}, headers=owner.headers)
    for api in (first, second):
        assert (await api.get(f"/media/{video}/{GENERATION}/{MASTER}")).status_code == 403

    await second.patch(f"/videos/{video}", json={"visibility": "unlisted"}, headers=owner.headers)

    await _served_by_both(first, second, video)


def _closed_port() -> int:
    """A local port nothing listens on: a Redis that is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_without_redis_nothing_is_cached(media_settings: Settings, first: Client, db: Database) -> None:
    """The stamps cannot be read: every request reads the database, so a change made where this
    instance could not hear of it still applies to the very next request."""
    owner = await person(media_settings)
    video = uuid.UUID(await _playable(first, media_settings, owner))
    down = Redis.from_url(f"redis://127.0.0.1:{_closed_port()}/0", socket_connect_timeout=0.5)
    storage = open_storage(media_settings.storage_url)
    tokens = MediaTokens(media_settings.jwt_secret, media_settings.jwt_issuer, 60)
    stamps = ChangeStamps(down, media_settings.redis_namespace)
    server = MediaServer(
        db, storage, VideoService(db), tokens, redirect=False, cache_seconds=3600, stamps=stamps
    )
    try:
        assert (await server.serve(video, GENERATION, MASTER, {})).status_code == 200
        await db.fetch("UPDATE videos SET visibility = 'private' WHERE id = {}", video)

        with pytest.raises(Forbidden):
            await server.serve(video, GENERATION, MASTER, {})
    finally:
        await storage.close()
        await down.aclose()


async def test_a_channel_of_a_video_made_private_is_closed_to_strangers_on_every_instance(
    media_settings: Settings, db: Database, first: Client
) -> None:
    """The gateway's cache of who may read ``video:{id}`` follows the same stamps."""
    owner = await person(media_settings)
    video = await new_video(first, owner)
    redis = Redis.from_url(media_settings.redis_url)
    try:
        stamps = ChangeStamps(redis, media_settings.redis_namespace)
        there = VideoService(db, visibility_cache_seconds=3600, stamps=stamps)  # another instance
        assert await there.readable(video, None)

        response = await first.patch(
            f"/videos/{video}", json={"visibility": "private"}, headers=owner.headers
        )
        assert response.status_code == 200, response.text

        assert not await there.readable(video, None)
    finally:
        await redis.aclose()

"""Helpers shared by the comment, rating and moderation tests: settings with roomy rates, videos,
comments, and a bus of the test's own to watch what goes out live."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import msgspec
from litestar.testing import AsyncTestClient

from core.settings import Settings
from realtime.bus.base import Position, Publication
from realtime.bus.redis import RedisBus
from tests.users import Person

Client = AsyncTestClient[Any]


def roomy(settings: Settings, **changes: Any) -> Settings:
    """Rates high enough that only the tests about limits meet them."""
    rates = {"comment_rate": "1000/minute", "rating_rate": "1000/minute", "report_rate": "1000/hour"}
    return msgspec.structs.replace(settings, **{**rates, **changes})


async def new_video(client: Client, who: Person, **fields: Any) -> str:
    response = await client.post("/videos", json={"title": "A video", **fields}, headers=who.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def make_playable(database_url: str, video: str | uuid.UUID) -> None:
    """What a finished transcode does to the catalog row: the video is ready, with a generation."""
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(
            "UPDATE videos SET status = 'ready', media_generation = 'g1' WHERE id = $1", uuid.UUID(str(video))
        )
    finally:
        await connection.close()


async def post(client: Client, who: Person, video: str, body: str = "hello", **fields: Any) -> dict[str, Any]:
    response = await client.post(
        f"/videos/{video}/comments", json={"body": body, **fields}, headers=who.headers
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


@asynccontextmanager
async def watching(settings: Settings) -> AsyncIterator[RedisBus]:
    """A bus on the app's Redis namespace: subscribe to see publications, recover to read history."""
    bus = RedisBus(settings.redis_url, settings.redis_namespace, settings.bus_history_size)
    await bus.start()
    try:
        yield bus
    finally:
        await bus.stop()


async def next_event(bus: RedisBus, channel: str, within: float = 10.0) -> dict[str, Any]:
    """The data of the next publication on ``channel`` (others are skipped)."""
    stream = bus.publications()
    while True:
        publication = await _next(stream, within)
        if publication.channel == channel:
            return dict(msgspec.json.decode(publication.data))


async def _next(stream: AsyncIterator[Any], within: float) -> Publication:
    item = await asyncio.wait_for(anext(stream), within)
    assert isinstance(item, Publication), item
    return item


async def history(bus: RedisBus, channel: str) -> list[dict[str, Any]]:
    """Everything the channel's history would give a client that recovers from its start."""
    epoch = (await bus.position(channel)).epoch
    return [dict(msgspec.json.decode(p.data)) for p in await bus.recover(channel, Position(epoch, 0))]


def video_channel(video: str | uuid.UUID) -> str:
    return f"video:{video}"

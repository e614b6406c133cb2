"""Waiting for the media pipeline by its own events on the uploader's ``user:`` channel."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import msgspec
from litestar.testing import AsyncTestClient

from core.settings import Settings
from realtime import protocol
from realtime.bus.base import Publication
from realtime.bus.redis import RedisBus
from tests.app.video_helpers import watching
from tests.users import Person


async def media_events(bus: RedisBus, owner: uuid.UUID) -> AsyncIterator[dict[str, Any]]:
    """Every media event published to ``owner`` (subscribe to ``user:{owner}`` first)."""
    channel = f"user:{owner}"
    async for item in bus.publications():
        if isinstance(item, Publication) and item.channel == channel:
            event = msgspec.json.decode(item.data)
            if item.offset == 0:  # ephemeral: a whole server message, an ``event`` frame
                frame = protocol.server_decoder.decode(item.data)  # what a client will decode
                assert isinstance(frame, protocol.Event) and frame.channel == channel, frame
                event = event["data"]
            if str(event.get("type", "")).startswith("media."):
                yield event


async def settled(
    events: AsyncIterator[dict[str, Any]],
    video: str,
    seen: list[dict[str, Any]] | None = None,
    within: float = 60.0,
) -> dict[str, Any]:
    """The ``media.status`` that ends ``video``'s processing (ready or failed)."""

    async def wait() -> dict[str, Any]:
        async for event in events:
            if event["video_id"] != video:
                continue
            if seen is not None:
                seen.append(event)
            if event["type"] == "media.status" and event["status"] in ("ready", "failed"):
                return event
        raise AssertionError("the event stream ended")

    return await asyncio.wait_for(wait(), within)


async def upload_and_wait(
    api: AsyncTestClient[Any],
    settings: Settings,
    owner: Person,
    video: str,
    clip: bytes,
    seen: list[dict[str, Any]] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Upload ``clip`` as ``video``'s source and wait for its processing to end: the 202 body,
    and the ``media.status`` that ended it (every event on the way goes to ``seen``)."""
    async with watching(settings) as bus:
        events = media_events(bus, owner.id)
        await bus.subscribe(f"user:{owner.id}")
        response = await api.put(f"/videos/{video}/media", content=clip, headers=owner.headers)
        assert response.status_code == 202, response.text
        return response.json(), await settled(events, video, seen)

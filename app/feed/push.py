"""Live feed pushes: the ``@feed`` outbox handler.

When an activity commits, the relay hands its id here. The actor's followers who are online
(present on their own ``user:{id}`` channel, which only they may read) each get a ``feed.item``
publication on it, shaped and filtered as their feed would show it. Followers who are offline
find the item in ``GET /me/feed`` later; nothing is stored per follower.

Idempotent: each publication carries the outbox row's key, which the bus keeps per channel, so a
relay that retries after a crash delivers nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
import uuid

import msgspec

from app.db import Database
from app.feed.activity import ActivityRecorded
from app.feed.schemas import FeedItemAdded
from app.feed.service import FeedService
from realtime.bus.base import Bus
from realtime.channels import channel_name
from realtime.presence.base import Presence

log = logging.getLogger("mydrtv.feed")

_decoder = msgspec.json.Decoder(ActivityRecorded)
_encoder = msgspec.json.Encoder()
_PRESENCE_CHECKS = 50  # presence lookups in flight at once


class FeedPusher:
    def __init__(self, db: Database, bus: Bus, presence: Presence, feed: FeedService) -> None:
        self._db = db
        self._bus = bus
        self._presence = presence
        self._feed = feed

    async def _online(self, user_ids: list[uuid.UUID]) -> list[uuid.UUID]:
        limit = asyncio.Semaphore(_PRESENCE_CHECKS)

        async def present(user_id: uuid.UUID) -> bool:
            async with limit:
                return bool(await self._presence.members(channel_name("user", user_id)))

        flags = await asyncio.gather(*(present(user_id) for user_id in user_ids))
        return [user_id for user_id, online in zip(user_ids, flags, strict=True) if online]

    async def handle(self, payload: bytes, key: str) -> None:
        activity_id = _decoder.decode(payload).activity_id
        rows = await self._db.fetch(
            "SELECT f.follower_id FROM activities a JOIN follows f ON f.followee_id = a.actor_id"
            " WHERE a.id = {}",
            activity_id,
        )
        online = await self._online([row["follower_id"] for row in rows])
        for follower in online:
            reader = await self._feed.reader(follower)
            item = await self._feed.item(activity_id, reader) if reader is not None else None
            if item is None:
                continue  # muted, blocked, or a video this follower may not see
            await self._bus.publish(
                channel_name("user", follower), _encoder.encode(FeedItemAdded(item)), key=key
            )
        if online:
            log.debug("feed item pushed", extra={"activity": activity_id, "online_followers": len(online)})

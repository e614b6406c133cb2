"""A Redis bus subscribed to one channel and listened to, beside a publisher: what the bus tests
that break its connections start from."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator

from realtime.bus.base import Gap, Publication
from realtime.bus.redis import RedisBus


class Listener:
    """Reads the bus's stream into a queue, so a wait for the next item may time out harmlessly."""

    def __init__(self, bus: RedisBus) -> None:
        self.items: asyncio.Queue[Publication | Gap] = asyncio.Queue()
        self.task = asyncio.create_task(self._read(bus))

    async def _read(self, bus: RedisBus) -> None:
        async for item in bus.publications():
            self.items.put_nowait(item)

    async def next(self, within: float) -> Publication | Gap:
        return await asyncio.wait_for(self.items.get(), within)


@contextlib.asynccontextmanager
async def subscribed(
    url: str, channel: str = "video:1", *, publisher_url: str | None = None
) -> AsyncIterator[tuple[RedisBus, Listener, RedisBus]]:
    """A bus on ``url`` subscribed to ``channel`` and listened to, and a publisher on the same
    namespace (on ``publisher_url`` when the subscriber's path to Redis is not the publisher's)."""
    namespace = f"bus-{uuid.uuid4().hex[:6]}"
    bus, publisher = RedisBus(url, namespace), RedisBus(publisher_url or url, namespace)
    await bus.start()
    await publisher.start()
    try:
        await bus.subscribe(channel)
        yield bus, Listener(bus), publisher
    finally:
        await bus.stop()
        await publisher.stop()

"""The in-process bus: one process, history in memory, a new epoch per process."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Sequence

from realtime.bus.base import Bus, Gap, Position, Publication, RecoveryFailed


class _Channel:
    def __init__(self) -> None:
        self.epoch = uuid.uuid4().hex[:12]
        self.offset = 0
        self.history: deque[tuple[float, Publication]] = deque()
        self.trimmed = 0  # the newest offset that left the history by size or age
        self.keys: dict[str, Publication] = {}


class MemoryBus(Bus):
    def __init__(self, history_size: int = 1000, history_seconds: float = 600.0) -> None:
        self._history_size = history_size
        self._history_seconds = history_seconds
        self._channels: dict[str, _Channel] = {}
        self._subscribed: set[str] = set()
        self._queue: asyncio.Queue[Publication | None] = asyncio.Queue()

    def _channel(self, name: str) -> _Channel:
        channel = self._channels.get(name)
        if channel is None:
            channel = self._channels[name] = _Channel()
        return channel

    def _trim(self, channel: _Channel) -> None:
        horizon = time.monotonic() - self._history_seconds
        while channel.history and (
            len(channel.history) > self._history_size or channel.history[0][0] < horizon
        ):
            channel.trimmed = channel.history.popleft()[1].offset

    async def publish(self, channel: str, data: bytes, *, key: str | None = None) -> Publication:
        state = self._channel(channel)
        if key is not None and key in state.keys:
            return state.keys[key]
        state.offset += 1
        publication = Publication(channel=channel, epoch=state.epoch, offset=state.offset, data=data)
        state.history.append((time.monotonic(), publication))
        self._trim(state)
        if key is not None:
            state.keys[key] = publication
        if channel in self._subscribed:
            self._queue.put_nowait(publication)
        return publication

    async def broadcast(self, channel: str, data: bytes) -> None:
        if channel in self._subscribed:
            self._queue.put_nowait(Publication(channel=channel, epoch="", offset=0, data=data))

    async def subscribe(self, channel: str) -> None:
        self._subscribed.add(channel)

    async def unsubscribe(self, channel: str) -> None:
        self._subscribed.discard(channel)

    async def stop(self) -> None:
        self._queue.put_nowait(None)

    async def publications(self) -> AsyncIterator[Publication | Gap]:
        while (publication := await self._queue.get()) is not None:
            if publication.channel in self._subscribed:
                yield publication

    async def position(self, channel: str) -> Position:
        state = self._channel(channel)
        return Position(epoch=state.epoch, offset=state.offset)

    async def recover(self, channel: str, since: Position) -> list[Publication]:
        state = self._channel(channel)
        self._trim(state)
        if since.epoch != state.epoch or since.offset > state.offset:
            raise RecoveryFailed(f"channel {channel} is in another epoch")
        if since.offset < state.trimmed:
            raise RecoveryFailed(f"channel {channel}: missed publications left the history")
        return [p for _, p in state.history if p.offset > since.offset]

    async def redact(self, channel: str, keys: Sequence[str]) -> None:
        state = self._channel(channel)
        withdrawn: set[int] = set()
        for key in keys:
            published = state.keys.get(key)
            if published is None:
                state.keys[key] = Publication(channel=channel, epoch="", offset=0, data=b"")  # retired
            elif published.epoch == state.epoch and published.offset:
                withdrawn.add(published.offset)
        if withdrawn:
            state.history = deque((at, p) for at, p in state.history if p.offset not in withdrawn)

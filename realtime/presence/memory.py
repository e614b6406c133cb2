"""Presence for one process: the node is the process, so its heartbeat covers every entry."""

from __future__ import annotations

import time

from realtime.presence.base import Presence
from realtime.protocol import User


class MemoryPresence(Presence):
    def __init__(self, ttl_seconds: float) -> None:
        super().__init__(ttl_seconds)
        self._entries: dict[str, dict[str, User | None]] = {}
        self._alive_until = 0.0

    async def heartbeat(self) -> None:
        self._alive_until = time.monotonic() + self.ttl_seconds

    async def join(self, channel: str, client: str, user: User | None) -> None:
        self._entries.setdefault(channel, {})[client] = user

    async def leave(self, channel: str, client: str) -> None:
        entries = self._entries.get(channel, {})
        entries.pop(client, None)
        if not entries:
            self._entries.pop(channel, None)

    async def members(self, channel: str) -> dict[str, User | None]:
        if time.monotonic() >= self._alive_until:
            return {}
        return dict(self._entries.get(channel, {}))

"""Presence for one process."""

from __future__ import annotations

import time

from realtime.presence.base import Presence
from realtime.protocol import User


class MemoryPresence(Presence):
    def __init__(self, ttl_seconds: float) -> None:
        super().__init__(ttl_seconds)
        self._entries: dict[str, dict[str, tuple[float, User | None]]] = {}

    async def join(self, channel: str, client: str, user: User | None) -> None:
        self._entries.setdefault(channel, {})[client] = (time.monotonic() + self.ttl_seconds, user)

    async def leave(self, channel: str, client: str) -> None:
        entries = self._entries.get(channel, {})
        entries.pop(client, None)
        if not entries:
            self._entries.pop(channel, None)

    async def members(self, channel: str) -> dict[str, User | None]:
        now = time.monotonic()
        return {c: user for c, (expires, user) in self._entries.get(channel, {}).items() if expires > now}

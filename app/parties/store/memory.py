"""Parties of one process, in a dict."""

from __future__ import annotations

import time
from collections.abc import Iterable

from app.parties.state import Party
from app.parties.store.base import PartyStore


class MemoryPartyStore(PartyStore):
    def __init__(self, ttl_seconds: float) -> None:
        super().__init__(ttl_seconds)
        self._parties: dict[str, tuple[float, Party]] = {}

    async def load(self, party_id: str) -> Party | None:
        entry = self._parties.get(party_id)
        if entry is None:
            return None
        if entry[0] <= time.monotonic():
            del self._parties[party_id]
            return None
        return entry[1]

    async def load_many(self, party_ids: Iterable[str]) -> dict[str, Party]:
        found = {party_id: await self.load(party_id) for party_id in party_ids}
        return {party_id: party for party_id, party in found.items() if party is not None}

    async def save(self, party: Party, previous: int) -> bool:
        stored = await self.load(party.id)
        if (stored.revision if stored else 0) != previous:
            return False
        self._parties[party.id] = (time.monotonic() + self.ttl_seconds, party)
        return True

    async def delete(self, party_id: str) -> None:
        self._parties.pop(party_id, None)

"""Parties shared by every instance: one Redis hash per party, changed by a compare-and-set script.

The revision sits beside the encoded state in the hash, so the script compares an integer and
never decodes JSON.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources

import msgspec

from app.parties.state import Party
from app.parties.store.base import PartyStore
from core.redis_client import redis_client

_SAVE = resources.files(__package__).joinpath("save.lua").read_text()
_decoder = msgspec.json.Decoder(Party)


class RedisPartyStore(PartyStore):
    def __init__(self, url: str, namespace: str, ttl_seconds: float) -> None:
        super().__init__(ttl_seconds)
        self._redis = redis_client(url)
        self._prefix = f"{namespace}:party"
        self._save = self._redis.register_script(_SAVE)

    def _key(self, party_id: str) -> str:
        return f"{self._prefix}:{{{party_id}}}"

    async def load(self, party_id: str) -> Party | None:
        raw = await self._redis.hget(self._key(party_id), "state")
        return _decoder.decode(raw) if raw is not None else None

    async def load_many(self, party_ids: Iterable[str]) -> dict[str, Party]:
        ids = list(party_ids)
        async with self._redis.pipeline(transaction=False) as pipe:
            for party_id in ids:
                pipe.hget(self._key(party_id), "state")
            raws = await pipe.execute()
        return {party_id: _decoder.decode(raw) for party_id, raw in zip(ids, raws, strict=True) if raw}

    async def save(self, party: Party, previous: int) -> bool:
        stored = await self._save(
            keys=[self._key(party.id)],
            args=[previous, party.revision, msgspec.json.encode(party), int(self.ttl_seconds * 1000)],
        )
        return bool(stored)

    async def delete(self, party_id: str) -> None:
        await self._redis.delete(self._key(party_id))

    async def close(self) -> None:
        await self._redis.aclose()

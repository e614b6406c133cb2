"""The Redis part: what the deployment keeps in Redis that names the user.

Everything under the deployment's namespace is scanned: keys whose name holds the user's id (their
own ``user:{id}`` channel's history, offsets and idempotency keys; rate-limit counters keyed by
their id) are deleted; in history streams, the entries whose event names the user (comments,
chat, party states listing them, feed items) are deleted, which recovery treats like a redaction
(their offsets are skipped); in hashes (presence, party state) the fields that name them are
deleted (a party whose live state goes is rebuilt from its records). Login rate-limit counters are
keyed by the submitted email: the identity part hands the email over (``forget_email``) before it
erases it.
"""

from __future__ import annotations

import uuid

import msgspec

from app.privacy.parts import Exported, Record
from core.redis_client import RedisClient

_SCAN = 1000


class RedisPart:
    name = "redis"
    store = "redis"

    def __init__(self, redis: RedisClient, namespace: str) -> None:
        self._redis = redis
        self._namespace = namespace

    async def _walk(
        self, user_id: uuid.UUID, *, erase: bool, held: list[Record] | None = None
    ) -> tuple[list[str], dict[str, int]]:
        needle = str(user_id).encode()
        found: list[str] = []
        counts = {"keys": 0, "stream_entries": 0, "hash_fields": 0}
        async for raw in self._redis.scan_iter(match=f"{self._namespace}:*", count=_SCAN):
            key = raw if isinstance(raw, bytes) else str(raw).encode()
            name = key.decode(errors="replace")
            if needle in key:
                found.append(f"key {name}")
                if erase:
                    counts["keys"] += await self._redis.delete(key)
                continue
            kind = await self._redis.type(key)
            kind = kind.decode() if isinstance(kind, bytes) else kind
            if kind == "stream":
                entries: list[tuple[bytes, dict[bytes, bytes]]] = await self._redis.xrange(key)  # type: ignore[assignment]
                ids = [entry_id for entry_id, fields in entries if any(needle in v for v in fields.values())]
                if ids:
                    found.append(f"{len(ids)} entries of stream {name}")
                    if erase:
                        counts["stream_entries"] += await self._redis.xdel(key, *ids)
            elif kind == "hash":
                fields: dict[bytes, bytes] = await self._redis.hgetall(key)  # type: ignore[assignment]
                hits = [f for f, v in fields.items() if needle in f or needle in v]
                if hits:
                    found.append(f"{len(hits)} fields of hash {name}")
                    if held is not None:
                        held += [
                            {"key": name, "field": f.decode(errors="replace"), "value": _json(fields[f])}
                            for f in hits
                        ]
                    if erase:
                        counts["hash_fields"] += await self._redis.hdel(key, *hits)
            elif kind == "string":
                value = await self._redis.get(key)
                if value is not None and needle in value:
                    found.append(f"key {name}")
                    if erase:
                        counts["keys"] += await self._redis.delete(key)
        return found, counts

    async def export(self, user_id: uuid.UUID) -> Exported:
        """The live state that names the user: presence entries, live parties' states."""
        held: list[Record] = []
        await self._walk(user_id, erase=False, held=held)
        return Exported(records={"live_state": held})

    async def erase(self, user_id: uuid.UUID) -> dict[str, int]:
        _, counts = await self._walk(user_id, erase=True)
        return counts

    async def residue(self, user_id: uuid.UUID) -> list[str]:
        found, _ = await self._walk(user_id, erase=False)
        return found

    async def forget_email(self, email: str) -> None:
        """Delete the rate-limit counters keyed by this email (the login limits)."""
        pattern = f"{self._namespace}:limits*{_glob_escape(email)}*"
        keys = [key async for key in self._redis.scan_iter(match=pattern, count=_SCAN)]
        if keys:
            await self._redis.delete(*keys)


def _json(value: bytes) -> object:
    try:
        return msgspec.json.decode(value)
    except msgspec.DecodeError:
        return value.decode(errors="replace")


def _glob_escape(text: str) -> str:
    return "".join(f"\\{c}" if c in "*?[]\\" else c for c in text)

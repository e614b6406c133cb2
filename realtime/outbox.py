"""The transactional outbox and its relay.

A domain write calls ``enqueue`` inside its own transaction, so the event is stored if and only
if the change commits. The relay publishes stored events to the bus in id order and marks them
published; if it dies between publishing and marking, the next run publishes the same events
again under the same idempotency key (``outbox:<id>``), which the bus delivers only once.
One relay is active at a time (a PostgreSQL advisory lock), which keeps per-channel order.

An event can be taken back (``withdraw``): one still in the outbox is never published, one
already published leaves the channel's history, so no recovering client receives it. The history
is changed after commit, by the relay (an ``@redact`` row), so a change that rolls back leaves it
whole.

Channels whose name starts with ``@`` are internal: they never reach the bus, but the handler
registered under that name (``@graph`` for the graph projection, ``@feed`` for followers' feeds).
Handlers must be idempotent for the same reason the bus publish is keyed. An internal channel
with no handler (its backend is not configured) is marked published and skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence

import asyncpg
import msgspec

from app.db import Database, notified
from realtime.bus.base import Bus

log = logging.getLogger("mydrtv.outbox")

NOTIFY_CHANNEL = "mydrtv_outbox"
REDACT_CHANNEL = "@redact"  # built in: the relay withdraws publications from a channel's history
_LEADER_LOCK = 7_310_453

# An internal channel's consumer: gets the payload and its idempotency key.
Handler = Callable[[bytes, str], Awaitable[None]]


def publication_key(outbox_id: int) -> str:
    """The bus idempotency key an outbox row is published under."""
    return f"outbox:{outbox_id}"


async def enqueue(db: Database, channel: str, event: bytes) -> str:
    """Store an event for ``channel``; call it inside the transaction of the change it reports.

    Returns the key the event will be published under: keep it to ``withdraw`` the event later.
    """
    rows = await db.fetch(
        "INSERT INTO outbox (channel, payload) VALUES ({}, {}) RETURNING id", channel, event
    )
    await db.fetch("SELECT pg_notify({}, '')", NOTIFY_CHANNEL)
    return publication_key(int(rows[0]["id"]))


class Redaction(msgspec.Struct, frozen=True):
    """The ``@redact`` payload: publications to withdraw from the history of each of ``channels``
    (one event may have been published on many: a feed item on each follower's channel)."""

    channels: list[str]
    keys: list[str]


_redaction = msgspec.json.Decoder(Redaction)


async def withdraw(db: Database, channels: Sequence[str], keys: Sequence[str]) -> None:
    """Take back events enqueued earlier and published (under ``keys``) on some of ``channels``,
    inside the transaction that obsoletes them.

    Rows not relayed yet are marked done (and row-locked until commit). The history is redacted
    only once this transaction commits: the relay handles the ``@redact`` row it leaves, after
    every row enqueued before it, so a publish the relay already held in hand is withdrawn too
    (and a key not published yet is retired). Live clients that already received an event keep
    it; the caller publishes whatever tells them to drop it.
    """
    if not keys or not channels:
        return
    ids = [int(key.removeprefix("outbox:")) for key in keys]
    await db.fetch("UPDATE outbox SET published_at = now() WHERE id = ANY({}) AND published_at IS NULL", ids)
    await enqueue(db, REDACT_CHANNEL, msgspec.json.encode(Redaction(list(channels), list(keys))))


class Relay:
    def __init__(
        self,
        db: Database,
        bus: Bus,
        batch: int = 200,
        poll_seconds: float = 5.0,
        handlers: Mapping[str, Handler] | None = None,
    ) -> None:
        self._db = db
        self._bus = bus
        self._handlers = {REDACT_CHANNEL: self._redact, **(handlers or {})}
        self._batch = batch
        self._poll_seconds = poll_seconds
        self._wake = asyncio.Event()

    async def drain(self) -> int:
        """Publish everything pending; returns how many events went out.

        A failing bus publish stops the drain (per-channel order must hold); a failing internal
        handler only leaves its row pending for the next drain, so a graph outage never holds up
        live events. Handlers sync state by key, so they do not depend on order.
        """
        total = 0
        after = 0
        while True:
            rows = await self._db.fetch(
                "SELECT id, channel, payload FROM outbox WHERE published_at IS NULL AND id > {}"
                " ORDER BY id LIMIT {}",
                after,
                self._batch,
            )
            if not rows:
                return total
            done: list[int] = []
            for row in rows:
                try:
                    await self._deliver(row["channel"], bytes(row["payload"]), publication_key(row["id"]))
                except Exception:
                    if not row["channel"].startswith("@"):
                        raise  # unmarked rows go out again, under the same keys
                    log.exception("outbox handler %s failed; retrying later", row["channel"])
                    continue
                done.append(row["id"])
            if done:
                await self._db.fetch("UPDATE outbox SET published_at = now() WHERE id = ANY({})", done)
            total += len(done)
            after = rows[-1]["id"]

    async def _deliver(self, channel: str, payload: bytes, key: str) -> None:
        if not channel.startswith("@"):
            await self._bus.publish(channel, payload, key=key)
            return
        handler = self._handlers.get(channel)
        if handler is None:
            log.debug("no handler for %s; skipped", channel)
            return
        await handler(payload, key)

    async def _redact(self, payload: bytes, _key: str) -> None:
        redaction = _redaction.decode(payload)
        for channel in redaction.channels:
            await self._bus.redact(channel, redaction.keys)

    async def run(self) -> None:
        """Relay until cancelled: wait to lead, then drain on every notification (or poll)."""
        connection = await asyncpg.connect(self._db.url)
        try:
            # Blocks while another relay leads; its connection closing hands the lead over.
            await connection.execute("SELECT pg_advisory_lock($1)", _LEADER_LOCK)
            await connection.add_listener(NOTIFY_CHANNEL, lambda *_: self._wake.set())
            while True:
                self._wake.clear()
                try:
                    await self.drain()
                except Exception:
                    log.exception("outbox relay failed; retrying")
                await notified(self._wake, self._poll_seconds)
        finally:
            with contextlib.suppress(Exception):
                await connection.close()

"""The transactional outbox and its relay.

A domain write calls ``enqueue`` inside its own transaction, so the event is stored if and only
if the change commits. The relay publishes stored events to the bus in id order and marks them
published; if it dies between publishing and marking, the next run publishes the same events
again under the same idempotency key (``outbox:<id>``), which the bus delivers only once.
One relay leads at a time (a lease: realtime/lease.py); ``Relay`` says why even a stale
leader next to the new one cannot reorder or duplicate a channel's publications.

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
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import msgspec

from core.db import Database, work_when_notified
from realtime.bus.base import Bus
from realtime.lease import Lease, LostLead

log = logging.getLogger("mydrtv.outbox")

NOTIFY_CHANNEL = "mydrtv_outbox"
REDACT_CHANNEL = "@redact"  # built in: the relay withdraws publications from a channel's history
_LEADER_LOCK = 7_310_453
POLL_SECONDS = 5.0  # a drain this often even without notifications
LEASE_SECONDS = 1.5  # a leader silent this long loses the lead
HEARTBEAT_SECONDS = 0.5  # how often the leader proves it is alive
# A leader whose drains have failed this long (its Redis away or partitioned) hands the lead to a
# standby, which may reach the bus; with the bus away for everyone the lead just changes hands.
STEP_DOWN_SECONDS = LEASE_SECONDS
HANDLERS_AT_ONCE = 8  # internal rows of one read handled at a time (each may take a pooled connection)

# An internal channel's consumer: gets the payload and its idempotency key.
Handler = Callable[[bytes, str], Awaitable[None]]


KEY_PREFIX = "outbox:"


def publication_key(outbox_id: int) -> str:
    """The bus idempotency key an outbox row is published under."""
    return f"{KEY_PREFIX}{outbox_id}"


async def enqueue(db: Database, channel: str, event: bytes) -> str:
    """Store an event for ``channel``; call it inside the transaction of the change it reports.

    Returns the key the event will be published under: keep it to ``withdraw`` the event later.
    One round trip: the row and the relay's wake-up (``NOTIFY``, delivered at commit) together.
    """
    rows = await db.fetch(
        "WITH event AS (INSERT INTO outbox (channel, payload) VALUES ({}, {}) RETURNING id)"
        " SELECT id, pg_notify({}, '') FROM event",
        channel,
        event,
        NOTIFY_CHANNEL,
    )
    return publication_key(int(rows[0]["id"]))


async def enqueue_many(db: Database, events: Sequence[tuple[str, bytes]]) -> list[str]:
    """``enqueue`` for many ``(channel, event)`` pairs in one statement (an erasure's thousands of
    removals), in order; their keys."""
    if not events:
        return []
    rows = await db.fetch(
        "INSERT INTO outbox (channel, payload) SELECT channel, payload FROM unnest({}::text[], {}::bytea[])"
        " WITH ORDINALITY AS e(channel, payload, n) ORDER BY n RETURNING id",
        [channel for channel, _ in events],
        [event for _, event in events],
    )
    await db.fetch("SELECT pg_notify({}, '')", NOTIFY_CHANNEL)
    return [publication_key(int(row["id"])) for row in sorted(rows, key=lambda r: int(r["id"]))]


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


class Backlog(msgspec.Struct, frozen=True):
    """What waits for the bus: rows for live channels (and redactions) not yet published."""

    rows: int
    oldest_seconds: float  # how long the oldest of them has waited
    led: bool  # whether some relay, anywhere, holds the lead


async def backlog(db: Database) -> Backlog:
    """The outbox's backlog, for readiness. Internal channels other than ``@redact`` are left out:
    their handlers may wait for their own backend (the graph) without holding up live events."""
    rows = await db.fetch(
        "SELECT count(*) AS n, coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS age,"
        " EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = 0 AND objid = {}"
        " AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))"
        " AS led FROM outbox WHERE published_at IS NULL AND (left(channel, 1) <> '@' OR channel = {})",
        _LEADER_LOCK,
        REDACT_CHANNEL,
    )
    return Backlog(rows=int(rows[0]["n"]), oldest_seconds=float(rows[0]["age"]), led=bool(rows[0]["led"]))


class CannotPublish(Exception):
    """This leader could not publish for ``STEP_DOWN_SECONDS``: another relay may do better."""


class Episode:
    """A failure that may last many retries: logged when it starts and when it ends, not per retry."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.since: float | None = None
        self.reason: str | None = None

    def failed(self, exc: BaseException) -> None:
        self.reason = f"{type(exc).__name__}: {exc}".rstrip(": ")
        if self.since is None:
            self.since = time.monotonic()
            log.warning("%s failed; retrying with backoff", self.what, exc_info=exc)

    def ended(self) -> None:
        if self.since is not None:
            log.info("%s recovered after %.1f s", self.what, time.monotonic() - self.since)
        self.since, self.reason = None, None


class Backoff:
    """Exponential delays with jitter between retries, reset by a success."""

    def __init__(self, first: float = 0.05, most: float = 1.0) -> None:
        self.first, self.most, self.next = first, most, first

    def delay(self) -> float:
        delay, self.next = self.next, min(self.next * 2, self.most)
        return delay * random.uniform(0.5, 1.0)

    def reset(self) -> None:
        self.next = self.first


class Relay:
    """Publishes the outbox; of all relays (one per API process) one leads at a time.

    Leadership is a ``Lease`` (realtime/lease.py): an advisory lock on a session that the server
    ends when the leader stops talking, so a frozen, partitioned or killed leader is replaced
    within ``LEASE_SECONDS``; every connection loss only sends the relay back to wait for the lead
    (with backoff), never out of ``run``. A leader that cannot publish for ``STEP_DOWN_SECONDS``
    (its Redis away or partitioned from it) steps down, so a standby that reaches Redis delivers.

    Why two relays at once (a stale leader that wakes with rows in hand, next to the new one)
    cannot reorder or duplicate a channel's publications:

    - The bus publishes a key once: a second publish of ``outbox:<id>`` delivers nothing, and a
      key retired by a redaction is never published. So each row reaches subscribers at most once,
      at its *first* publish, whoever makes it.
    - Each relay publishes the rows it read in id order: rows of one channel read together go
      out in one script call, which Redis runs atomically in id order, and any later row only
      after that call returned (so was stored, first or duplicate); a call that fails part-way
      stored those before the failure and none after. Take rows x < y of one channel, both
      committed when relay R read y. Either R read x too, and x's first publish happened no later
      than R's publish of x, before R's publish of y; or x was already marked published, so its
      first publish happened earlier still. Either way x goes out before y.
      (A row that commits after a later id was read goes out after it, as with one relay: order
      is commit-visibility order, as it always was.)
    - A relay marks published only rows the bus has taken (first or duplicate), so no row is
      marked that no one published; rows a stopped relay leaves unmarked go out again under the
      same keys, delivering nothing new.

    That safety does not depend on timing; the lease only keeps the overlap short and the work
    single. A leader checks its lease before every batch it publishes, so a stale one stops draining as soon
    as it learns (from its own clock, at the latest) that it lost the lead.
    """

    def __init__(
        self,
        db: Database,
        bus: Bus,
        batch: int = 200,
        poll_seconds: float = POLL_SECONDS,
        handlers: Mapping[str, Handler] | None = None,
        lease_seconds: float = LEASE_SECONDS,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
        step_down_seconds: float = STEP_DOWN_SECONDS,
    ) -> None:
        self._db = db
        self._bus = bus
        self._handlers = {REDACT_CHANNEL: self._redact, **(handlers or {})}
        self._batch = batch
        self._poll_seconds = poll_seconds
        self._step_down_seconds = step_down_seconds
        self._wake = asyncio.Event()
        self._lease = Lease(
            db.url,
            _LEADER_LOCK,
            seconds=lease_seconds,
            heartbeat=heartbeat_seconds,
            timeout=db.timeout,  # a frozen or partitioned PostgreSQL fails an attempt to lead, in time
            listen=NOTIFY_CHANNEL,
            on_change=self._wake.set,
        )
        self._connection = Episode("outbox relay: leading or waiting to lead")
        self._draining = Episode("outbox relay: publishing")
        self.relayed = 0  # rows taken by the bus or a handler, since start (read by the metrics)

    @property
    def leading(self) -> bool:
        return self._lease.leading

    @property
    def trouble(self) -> str | None:
        """Why this relay can neither lead nor wait to lead (PostgreSQL unreachable), if so."""
        return self._connection.reason

    async def drain(self, check: Callable[[], None] = lambda: None) -> int:
        """Publish everything pending; returns how many events went out.

        ``check`` runs before every row and raises to stop (the relay's lease check). A failing
        bus publish stops the drain (per-channel order must hold), with the internal rows of its read
        left for the next drain too; a failing internal handler only leaves its row pending for the
        next drain, so a graph outage never holds up live events. Handlers sync state by key, so
        they do not depend on order.
        """
        total = 0
        after = 0
        while True:
            check()
            rows = await self._db.fetch(
                "SELECT id, channel, payload FROM outbox WHERE published_at IS NULL AND id > {}"
                " ORDER BY id LIMIT {}",
                after,
                self._batch,
            )
            if not rows:
                return total
            done: list[int] = []
            try:
                await self._relay(rows, done, check)
            finally:  # what the bus took is marked even when a later publish failed
                if done:
                    await self._db.fetch("UPDATE outbox SET published_at = now() WHERE id = ANY({})", done)
                    self.relayed += len(done)
            total += len(done)
            after = rows[-1]["id"]

    async def _relay(
        self, rows: Sequence[Mapping[str, Any]], done: list[int], check: Callable[[], None]
    ) -> None:
        """Relay ``rows``, appending to ``done`` the ids the bus or a handler took.

        Every row for the bus goes out first, together: each channel's in id order within one
        call (``Bus.publish_many``), every channel in one round trip. Then the internal rows, their
        handlers ``HANDLERS_AT_ONCE`` at a time: so an ``@redact`` comes after the publish of the
        event it withdraws (an earlier row), and a comment's ``@feed`` row no longer costs the
        comments behind it a round trip each: interleaved, each event of a busy video went out
        in a publish of its own, and the relay trailed by seconds at 100 comments/s. Handlers sync
        state by key, so neither their order nor running them at once matters.
        """
        batch: dict[str, list[tuple[int, bytes]]] = {}
        internal: list[Mapping[str, Any]] = []
        for row in rows:
            channel = row["channel"]
            if channel.startswith("@"):
                internal.append(row)
            else:
                batch.setdefault(channel, []).append((row["id"], bytes(row["payload"])))
        await self._publish(batch, done, check)
        if not internal:
            return
        check()
        room = asyncio.Semaphore(HANDLERS_AT_ONCE)

        async def handle(row: Mapping[str, Any]) -> None:
            async with room:
                await self._handle(row["channel"], bytes(row["payload"]), publication_key(row["id"]))

        results = await asyncio.gather(*(handle(row) for row in internal), return_exceptions=True)
        for row, result in zip(internal, results, strict=True):
            if isinstance(result, Exception):
                log.error("outbox handler %s failed; retrying later", row["channel"], exc_info=result)
            elif isinstance(result, BaseException):
                raise result
            else:
                done.append(row["id"])

    async def _publish(
        self, batch: dict[str, list[tuple[int, bytes]]], done: list[int], check: Callable[[], None]
    ) -> None:
        """Publish ``batch`` (emptied); a channel whose publish failed stops the drain once the
        others are marked: its unmarked rows go out again, under the same keys."""
        if not batch:
            return
        check()
        results = await self._bus.publish_many(
            {
                channel: [(payload, publication_key(id_)) for id_, payload in rows]
                for channel, rows in batch.items()
            }
        )
        failure: Exception | None = None
        for channel, rows in batch.items():
            result = results[channel]
            if isinstance(result, Exception):
                failure = failure or result
            else:
                done.extend(id_ for id_, _ in rows)
        batch.clear()
        if failure is not None:
            raise failure

    async def _handle(self, channel: str, payload: bytes, key: str) -> None:
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
        """Relay until cancelled: wait to lead, then drain on every notification (or poll).

        Losing the connection, or the lead, sends it back to waiting, after a backoff.
        """
        backoff = Backoff()
        while True:
            try:
                async with self._lease.hold(connected=self._connection.ended):
                    backoff.reset()
                    log.info("outbox relay leads")
                    await self._lead()
            except LostLead as exc:
                log.warning("outbox relay lost the lead: %s", exc)
            except CannotPublish as exc:  # the lock went with the session: a standby has it now
                log.warning("outbox relay stepped down: %s", exc)
            except Exception as exc:  # a standby never exits: it reports and retries
                self._connection.failed(exc)
            await asyncio.sleep(backoff.delay())

    async def _lead(self) -> None:
        """Drain while the lease holds; returns only by ``LostLead``, or ``CannotPublish`` once
        drains have failed for ``step_down_seconds`` in a row."""
        retry = Backoff()
        failing_since: float | None = None

        async def drain_once() -> float:
            nonlocal failing_since
            self._lease.check()
            started = time.monotonic()
            try:
                await self.drain(self._lease.check)
            except LostLead:
                raise
            except Exception as exc:  # the bus or pool is down: retry soon, log once
                self._draining.failed(exc)
                failing_since = started if failing_since is None else failing_since
                if time.monotonic() - failing_since >= self._step_down_seconds:
                    raise CannotPublish(
                        f"drains failed for {time.monotonic() - failing_since:.1f} s: {self._draining.reason}"
                    ) from exc
                return min(retry.delay(), self._poll_seconds)
            failing_since = None
            self._draining.ended()
            retry.reset()
            return self._poll_seconds

        await work_when_notified(self._wake, drain_once)

"""What every bus backend does: publish with an offset, deliver, keep history, recover.

Each channel's publications carry an increasing ``offset`` within an ``epoch``. The epoch changes
whenever a channel's history is lost (a restart of the memory bus, expiry in Redis), so a client
that remembers ``(epoch, offset)`` either gets exactly what it missed or is told recovery failed:
never a silent gap. The one deliberate exception: publications withdrawn with ``redact`` (a removed
comment's text) are left out, and their offsets skipped.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Mapping, Sequence

import msgspec


class Position(msgspec.Struct, frozen=True):
    epoch: str
    offset: int  # the offset of the channel's latest publication; 0 before the first


class Publication(msgspec.Struct, frozen=True):
    channel: str
    epoch: str
    offset: int
    data: bytes  # the event, encoded once by the publisher


class Gap(msgspec.Struct, frozen=True):
    """Delivery was interrupted (the bus lost its connection): publications may be missing."""

    reason: str


class RecoveryFailed(Exception):
    """The missed publications are no longer all in history (or the epoch changed)."""


class BusUnavailable(Exception):
    """The bus cannot serve this now (it lost Redis, or Redis does not answer): try again later.

    A subscribe that fails this way has reported nothing to the client, so the client can
    reconnect and recover as after any interruption."""


class Bus(ABC):
    async def start(self) -> None:  # noqa: B027 - optional hook
        """Connect; called once before use."""

    async def stop(self) -> None:  # noqa: B027 - optional hook
        """Disconnect; ends ``publications()``."""

    @abstractmethod
    async def publish(self, channel: str, data: bytes, *, key: str | None = None) -> Publication:
        """Append to the channel's history and deliver to every subscribed node.

        With ``key``, a second publish of the same key returns the first publication and
        delivers nothing: a relay may retry after a crash without duplicating events.
        """

    async def publish_many(
        self, batches: Mapping[str, Sequence[tuple[bytes, str | None]]]
    ) -> dict[str, list[Publication] | Exception]:
        """Publish each channel's ``(data, key)`` pairs in order, as ``publish`` would one by one.

        Channels are independent: one whose publish failed gets the exception (its pairs before
        the failure may have gone out, none after it, so its order holds), the others their
        publications. Backends override it to save round trips (Redis: one for all of them).
        """
        results: dict[str, list[Publication] | Exception] = {}
        for channel, items in batches.items():
            published: list[Publication] = []
            try:
                for data, key in items:
                    published.append(await self.publish(channel, data, key=key))
            except Exception as exc:
                results[channel] = exc
            else:
                results[channel] = published
        return results

    @abstractmethod
    async def broadcast(self, channel: str, data: bytes) -> None:
        """Deliver without history: an ephemeral event (presence), offset 0, never recovered."""

    @abstractmethod
    async def subscribe(self, channel: str) -> None:
        """Deliver this channel's publications to this node's ``publications()``.

        Call it for every new subscriber, even on a channel the node already has: it returns once
        delivery is certain from now on (at once when it already is), or raises ``BusUnavailable``.
        A position read after it returns is one the bus delivers from, which is what keeps a
        ``subscribed`` reply and the publications after it free of gaps."""

    @abstractmethod
    async def unsubscribe(self, channel: str) -> None: ...

    @abstractmethod
    def publications(self) -> AsyncIterator[Publication | Gap]:
        """Every publication of the channels this node subscribes to, in offset order per channel;
        a ``Gap`` where some may have been lost, after which delivery goes on. After a ``Gap``
        every channel the node had is unknown: subscribers must recover (the epoch may have
        changed), and ``subscribe`` proves delivery again before it returns."""

    @abstractmethod
    async def position(self, channel: str) -> Position:
        """Where the channel is now; starts an epoch if it has none."""

    @abstractmethod
    async def recover(self, channel: str, since: Position) -> list[Publication]:
        """Every publication after ``since``, or ``RecoveryFailed``: all or nothing.

        Withdrawn publications (``redact``) are left out; their offsets are simply skipped.
        """

    @abstractmethod
    async def redact(self, channel: str, keys: Sequence[str]) -> None:
        """Withdraw the publications made under these idempotency keys from the channel's history,
        so no recovery returns them again (a removed comment must not reach a late client).

        A key not published yet is retired instead: a later ``publish`` under it stores and
        delivers nothing. That closes the race with a relay that holds the event in hand.
        """

"""The node: this process's sockets and their channels, fed by one bus subscription per channel.

Each publication that arrives from the bus is encoded once, websocket frame and all
(``realtime.frames``), and the same bytes go to every local socket subscribed to its channel:
per socket, fan-out appends them to the frames of this loop iteration, which the connection's
outlet writes in one go (``realtime.connection``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Awaitable

import msgspec

from core.outages import outage_of
from core.tasks import stop_task
from realtime import protocol
from realtime.bus.base import Bus, Gap, Position, Publication, RecoveryFailed
from realtime.connection import Connection
from realtime.frames import Outgoing
from realtime.presence.base import Presence

log = logging.getLogger(__name__)


def user_of(connection: Connection) -> protocol.User | None:
    principal = connection.principal
    return protocol.User(id=str(principal.id), handle=principal.handle) if principal else None


async def _quietly(step: Awaitable[None], what: str) -> None:
    """Presence is best effort: without Redis, entries lapse with the node's heartbeat and
    join/leave events are missed (clients refresh presence after a reconnect). A subscription
    or an unsubscription must not fail for it."""
    try:
        await step
    except Exception as exc:
        log.warning("could not %s: %r", what, exc)


class Node:
    def __init__(self, bus: Bus, presence: Presence, announce_max: int = 0) -> None:
        self.bus = bus
        self.presence = presence
        # Join and leave cost one frame per subscriber of the channel, so N signed-in viewers
        # joining one channel cost N²/2 frames (450 million for 30 000). Past ``announce_max``
        # subscribers here (0: no limit), this node announces nobody (presence still counts them).
        self.announce_max = announce_max
        self.connections: set[Connection] = set()
        self._subscribers: dict[str, set[Connection]] = {}
        self._on_bus: set[str] = set()
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._task: asyncio.Task[None] | None = None
        self._keepalive: asyncio.Task[None] | None = None
        self._dropping: set[asyncio.Task[None]] = set()
        self._seen: dict[str, tuple[str, int]] = {}  # channel: (epoch, offset) last delivered
        # Running totals read by the metrics at scrape time: counted once per publication or per
        # subscribe, never per socket write, so fan-out pays one addition per publication.
        self.delivered = 0  # frames handed to subscribed sockets
        self.recoveries = 0  # subscribes that asked to recover and got what they missed
        self.recovery_misses = 0  # subscribes that asked to recover and were told to reload

    async def start(self) -> None:
        await self.bus.start()
        await self.presence.heartbeat()
        self._task = asyncio.create_task(self._fan_out(), name="node-fan-out")
        self._keepalive = asyncio.create_task(self._renew_presence(), name="node-presence")

    async def say_goodbye(self, within: float = 5.0) -> None:
        """Tell every client to reconnect elsewhere and wait (a bounded time) for that to go out.

        Called on SIGTERM before the server stops accepting and closes what is left."""
        for connection in list(self.connections):
            connection.close(protocol.CLOSE_SHUTDOWN, "the server is shutting down")
        writers = [c.writer for c in self.connections if c.writer is not None]
        if writers:
            await asyncio.wait(writers, timeout=within)

    async def stop(self) -> None:
        """Tell every client to reconnect elsewhere, then leave the bus."""
        for connection in list(self.connections):
            connection.close(protocol.CLOSE_SHUTDOWN, "the server is shutting down")
        for task in (self._task, self._keepalive):
            if task is not None:
                await stop_task(task)
        for connection in list(self.connections):
            for channel in connection.channels:
                await _quietly(self.presence.leave(channel, connection.id), "leave presence")
        await self.bus.stop()
        await self.presence.close()

    async def _renew_presence(self) -> None:
        """One heartbeat per node, well within the ttl: while it beats, this node's entries live."""
        while True:
            await asyncio.sleep(self.presence.ttl_seconds / 3)
            try:
                await self.presence.heartbeat()
            except Exception as exc:  # Redis away: try again next time; entries lapse meanwhile
                # An outage in one line (it repeats every beat); anything else with its traceback.
                log.warning("presence heartbeat failed: %r", exc, exc_info=outage_of(exc) is None)

    async def _fan_out(self) -> None:
        async for publication in self.bus.publications():
            if isinstance(publication, Gap):
                self._seen.clear()  # every channel is unknown until its next publication
                self._drop_subscribers(publication.reason)
                continue
            in_sequence = publication.offset == 0 or self._follows(publication)
            subscribers = self._subscribers.get(publication.channel)
            if not subscribers:
                continue
            if not in_sequence:
                # Delivery skipped something the bus did not report: nobody may miss it silently.
                log.warning("channel %s: publication %s/%d out of sequence", publication.channel,
                            publication.epoch, publication.offset)  # fmt: skip
                for connection in list(subscribers):
                    connection.close(protocol.CLOSE_BUS_GAP, "delivery interrupted (out of sequence)")
                continue
            if publication.offset == 0:  # an ephemeral event, already a whole server message
                ephemeral = Outgoing(publication.data)
                self.delivered += len(subscribers)
                for connection in subscribers:
                    if not connection.pending or publication.channel not in connection.pending:
                        connection.deliver(ephemeral)
                continue
            message = protocol.Publication(
                channel=publication.channel,
                epoch=publication.epoch,
                offset=publication.offset,
                data=msgspec.Raw(publication.data),
            )
            outgoing = Outgoing(protocol.encoder.encode(message))
            self.delivered += len(subscribers)
            for connection in subscribers:
                if connection.pending:  # rare: a subscribe of this socket's is in flight
                    pending = connection.pending.get(publication.channel)
                    if pending is not None:
                        pending.append(message)
                        continue
                connection.deliver(outgoing)

    def _follows(self, publication: Publication) -> bool:
        """Whether ``publication`` comes right after the last one this node saw on its channel:
        the next offset of the same epoch, or the first of a new one (the channel's history
        expired or was lost meanwhile: nothing of the old epoch went undelivered, since the
        pub/sub connection held). The first publication after a subscribe or a gap sets it."""
        if publication.channel not in self._on_bus:  # in flight after the node left it
            return True
        last = self._seen.get(publication.channel)
        self._seen[publication.channel] = (publication.epoch, publication.offset)
        if last is None:
            return True
        if publication.epoch == last[0]:
            return publication.offset == last[1] + 1
        return publication.offset == 1

    def _drop_subscribers(self, reason: str) -> None:
        """Publications may be lost: send every subscribed client off to reconnect and recover."""
        for connection in list(self.connections):
            if connection.channels:
                connection.close(protocol.CLOSE_BUS_GAP, f"delivery interrupted ({reason})")

    def add(self, connection: Connection) -> None:
        self.connections.add(connection)

    def subscriptions_by_kind(self) -> dict[str, int]:
        """Sockets subscribed per channel kind (``video``, ``party``, ``user``), summed now."""
        kinds: dict[str, int] = {}
        for channel, subscribers in self._subscribers.items():
            kind = channel.split(":", 1)[0]
            kinds[kind] = kinds.get(kind, 0) + len(subscribers)
        return kinds

    def waiting(self) -> tuple[int, int]:
        """Frames and bytes waiting for every socket of this node (its queues and transports)."""
        frames = held = 0
        for connection in list(self.connections):
            waiting_frames, waiting_bytes = connection.waiting()
            frames += waiting_frames
            held += waiting_bytes
        return frames, held

    def drop(self, connection: Connection) -> None:
        """Remove a closing connection now, not when its socket finally closes: a slow consumer's
        close handshake can wait on a full TCP buffer, and its presence must not outlive it."""
        task = asyncio.create_task(self._remove_quietly(connection))
        self._dropping.add(task)
        task.add_done_callback(self._dropping.discard)

    async def _remove_quietly(self, connection: Connection) -> None:
        """``remove`` for a task nobody awaits: its failure is logged here, not lost."""
        try:
            await self.remove(connection)
        except Exception as exc:  # Redis away: presence entries lapse with the node's heartbeat
            log.warning("could not remove a closed connection: %r", exc, exc_info=outage_of(exc) is None)

    async def remove(self, connection: Connection) -> None:
        self.connections.discard(connection)
        for channel in list(connection.channels):
            await self.unsubscribe(connection, channel)

    async def subscribe(
        self, connection: Connection, channel: str, request_id: int, recover: protocol.Recover | None
    ) -> None:
        """Subscribe, recover what the client missed if it asks, and reply before any live frame."""
        connection.pending[channel] = []
        connection.channels.add(channel)
        self._subscribers.setdefault(channel, set()).add(connection)
        try:
            async with self._locks[channel]:
                # Even on a channel the node has: after a lost connection the bus must prove
                # delivery again before this subscriber is given a position (at once otherwise).
                await self.bus.subscribe(channel)
                self._on_bus.add(channel)
            position = await self.bus.position(channel)
            missed: list[protocol.Publication] = []
            recovered = False
            if recover is not None:
                with contextlib.suppress(RecoveryFailed):
                    since = Position(epoch=recover.epoch, offset=recover.offset)
                    missed = [
                        protocol.Publication(
                            channel=channel, epoch=p.epoch, offset=p.offset, data=msgspec.Raw(p.data)
                        )
                        for p in await self.bus.recover(channel, since)
                    ]
                    recovered = True
                if recovered:
                    self.recoveries += 1
                else:
                    self.recovery_misses += 1
        except BaseException:
            connection.pending.pop(channel, None)
            await self.unsubscribe(connection, channel)
            raise
        live = connection.pending.pop(channel, None)
        if live is None:  # the socket closed meanwhile (``remove``): nothing to answer or join
            return
        top = max([position.offset, *(p.offset for p in missed)])
        connection.send_message(
            protocol.Subscribed(
                id=request_id,
                channel=channel,
                epoch=position.epoch,
                offset=top,
                recovered=recovered,
                publications=missed,
            )
        )
        for message in live:  # what arrived meanwhile, without what the reply already holds
            if message.epoch != position.epoch:  # a new epoch began meanwhile: recover from it
                connection.close(protocol.CLOSE_BUS_GAP, "the channel's history changed meanwhile")
                return
            if message.offset > top:
                connection.send_message(message)
        user = user_of(connection)
        join = protocol.encoder.encode(protocol.Join(channel=channel, user=user)) if user else None
        await _quietly(self.presence.join(channel, connection.id, user), "join presence")
        if join is not None and self._announces(channel):
            await _quietly(self.bus.broadcast(channel, join), "announce a join")

    def _announces(self, channel: str) -> bool:
        """Whether joins and leaves on ``channel`` are announced: while this node has at most
        ``announce_max`` subscribers on it."""
        return not self.announce_max or len(self._subscribers.get(channel, ())) <= self.announce_max

    async def unsubscribe(self, connection: Connection, channel: str) -> None:
        was_live = channel in connection.channels and channel not in connection.pending
        announce = self._announces(channel)  # counted with this subscriber, as its join was
        connection.channels.discard(channel)
        connection.pending.pop(channel, None)
        subscribers = self._subscribers.get(channel)
        if subscribers is not None:  # at once: not even its own leave reaches it
            subscribers.discard(connection)
        if was_live:
            await _quietly(self.presence.leave(channel, connection.id), "leave presence")
            user = user_of(connection)
            if user is not None and announce:
                leave = protocol.encoder.encode(protocol.Leave(channel=channel, user=user))
                await _quietly(self.bus.broadcast(channel, leave), "announce a leave")
        if subscribers is None or subscribers:
            return
        lock = self._locks[channel]
        async with lock:
            if not self._subscribers.get(channel) and channel in self._on_bus:
                self._subscribers.pop(channel, None)
                self._on_bus.discard(channel)
                self._seen.pop(channel, None)
                await self.bus.unsubscribe(channel)
        # Forget the channel's lock once nobody holds or awaits it and no subscriber is coming.
        if not lock.locked() and channel not in self._subscribers and self._locks.get(channel) is lock:
            del self._locks[channel]

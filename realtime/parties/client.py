"""The reference party client: what a web client does, in Python, for tests and the benchmark.

It keeps an estimate of the server's clock (``clock.ClockFilter``), follows the party's state with
a player, and corrects the player's drift (``drift.correct``):

- a change scheduled for a future server time is carried out when the local clock reaches that
  time; a change that jumps (seek, new video) is prepared at once: the player pauses at the new
  position, so it has loaded by the time everyone starts;
- it learns how late its player starts and how long its seeks take, and starts or seeks that much
  earlier (``SyncPolicy.compensate``);
- it reports ``buffering`` when its player cannot play while the party plays, ``ready`` again
  when it can, and its round trip every ``status_seconds``.

``follow="naive"`` is the benchmark's baseline: it applies each state the moment it arrives,
with no clock sync and no drift correction.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any, Literal, Protocol

from realtime import protocol
from realtime.channels import channel_name
from realtime.client import Client
from realtime.parties.clock import ClockFilter, Sample
from realtime.parties.drift import MYDRTV, SeekTo, SetRate, SyncPolicy, correct
from realtime.parties.events import PartyEvent, PartyView, StateChanged, event_decoder, view_decoder
from realtime.parties.state import Playback

LEARNING = 0.5  # how much of each observed start or seek latency error the estimate takes in
BUFFERING_AFTER_MS = 500.0  # a player busy this long while the party plays (or waits) is buffering


class Player(Protocol):
    video_id: str | None

    @property
    def playing(self) -> bool: ...

    @property
    def busy(self) -> bool:
        """Starting or seeking: not moving yet although asked to."""

    @property
    def rate(self) -> float: ...

    def position(self) -> float: ...

    def play(self) -> None: ...

    def pause(self) -> None: ...

    def seek(self, position: float) -> None: ...

    def set_rate(self, rate: float) -> None: ...

    def load(self, video_id: str) -> None: ...


def _local_ms() -> float:
    return time.time_ns() / 1_000_000


class PartyClient:
    def __init__(
        self,
        client: Client,
        party_id: str,
        player: Player,
        *,
        policy: SyncPolicy = MYDRTV,
        clock: ClockFilter | None = None,
        local_ms: Callable[[], float] = _local_ms,
        follow: Literal["sync", "naive"] = "sync",
        sync_seconds: float = 0.5,
        status_seconds: float = 10.0,
        tick_seconds: float = 0.05,
    ) -> None:
        self.client = client
        self.party_id = party_id
        self.channel = channel_name("party", party_id)
        self.player = player
        self.policy = policy
        self.clock = clock or ClockFilter()
        self.local_ms = local_ms
        self.follow = follow
        self.sync_seconds = sync_seconds
        self.status_seconds = status_seconds
        self.tick_seconds = tick_seconds
        self.state: PartyView | None = None
        self.previous: PartyView | None = None  # the state before ``state``, until ``state`` holds
        self.events: asyncio.Queue[PartyEvent | protocol.ServerMessage] = asyncio.Queue()
        self.start_latency_ms = 0.0  # learned: how late the player starts after play()
        self.seek_latency_ms = 0.0  # learned: how long a seek takes while playing
        self._changed = asyncio.Condition()
        self._tasks: list[asyncio.Task[Any]] = []
        self._reports: list[asyncio.Task[Any]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._measure: Literal["start", "seek"] | None = None
        self._buffering = False
        self._busy_since: float | None = None
        self._prerolled: tuple[str, int] | None = None  # the change already prepared for

    # Connecting -----------------------------------------------------------------------------------

    async def start(self, *, recover: bool = False, sync_burst: int = 16) -> PartyView:
        """Subscribe to the party, sync the clock, fetch the state and start following it."""
        self._tasks.append(asyncio.create_task(self._read()))
        self._buffering = False  # until the player shows otherwise
        await self.client.subscribe(self.channel, recover=recover)
        if self.follow == "sync":
            await self.sync_clock(sync_burst)
            await self.report()
        current = await self.get()
        if self.follow == "sync":
            self._tasks.append(asyncio.create_task(self._keep_in_sync()))
            self._tasks.append(asyncio.create_task(self._tick()))
        return current

    async def reattach(self, client: Client) -> PartyView:
        """Go on over a new connection (after a disconnect): the clock filter starts again, since
        the new connection may reach an instance whose clock differs slightly."""
        await self.stop()
        self.client = client
        self.clock.reset()
        return await self.start(recover=True)

    async def stop(self) -> None:
        for task in [*self._tasks, *self._reports]:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await task
        self._tasks = []
        self._reports = []
        if self._timer is not None:
            self._timer.cancel()

    def failures(self) -> list[str]:
        """Background work that failed (reading, syncing, reporting): empty when all is well."""
        done = [t for t in (*self._tasks, *self._reports) if t.done() and not t.cancelled()]
        return [repr(t.exception()) for t in done if t.exception() is not None]

    async def _read(self) -> None:
        while True:
            message = await self.client.events.get()
            if isinstance(message, protocol.Publication) and message.channel == self.channel:
                event = event_decoder.decode(message.data)
                if isinstance(event, StateChanged):
                    await self._accept(event.state)
                self.events.put_nowait(event)
            else:
                self.events.put_nowait(message)

    # Clock ----------------------------------------------------------------------------------------

    async def sync_clock(self, count: int = 1, spacing_seconds: float = 0.03) -> None:
        """``count`` time exchanges, started ``spacing_seconds`` apart (they may overlap)."""

        async def one(delay: float) -> None:
            await asyncio.sleep(delay)  # spread the exchanges out: independent network conditions
            sent = self.local_ms()
            reply = await self.client.request(protocol.TimeSync(client_sent=sent))
            assert isinstance(reply, protocol.TimeSynced)
            received = self.local_ms()
            self.clock.add(Sample(sent, reply.server_received, reply.server_sent, received))

        await asyncio.gather(*(one(n * spacing_seconds) for n in range(count)))

    def server_now(self) -> float | None:
        offset = self.clock.offset
        return None if offset is None else self.local_ms() + offset

    async def _keep_in_sync(self) -> None:
        last_status = time.monotonic()
        while True:
            await asyncio.sleep(self.sync_seconds)  # a periodic exchange, not a wait for an event
            await self.sync_clock()
            if time.monotonic() - last_status >= self.status_seconds:
                await self.report()
                last_status = time.monotonic()

    # Requests -------------------------------------------------------------------------------------

    async def get(self) -> PartyView:
        return await self._state_reply(protocol.PartyGet(party=self.party_id))

    async def command(self, action: protocol.PartyAction, **fields: Any) -> PartyView:
        """Send a command against the state this client has (its version)."""
        version = fields.pop("version", None)
        if version is None:
            assert self.state is not None, "start() first"
            version = self.state.playback.version
        message = protocol.PartyCommand(party=self.party_id, action=action, version=version, **fields)
        return await self._state_reply(message)

    async def report(self, buffering: bool | None = None) -> PartyView:
        if buffering is not None:
            self._buffering = buffering
        rtt = self.clock.round_trip_ms()
        message = protocol.PartyStatus(party=self.party_id, buffering=self._buffering, rtt_ms=rtt)
        return await self._state_reply(message)

    async def chat(self, text: str, position: float | None = None) -> int:
        message = protocol.PartyChat(party=self.party_id, text=text, position=position)
        reply = await self.client.request(message)
        assert isinstance(reply, protocol.PartySent) and reply.message_id is not None
        return reply.message_id

    async def react(self, emoji: str, position: float | None = None) -> None:
        await self.client.request(protocol.PartyReact(party=self.party_id, emoji=emoji, position=position))

    async def _state_reply(self, message: Any) -> PartyView:
        reply = await self.client.request(message)
        assert isinstance(reply, protocol.PartyState)
        current = view_decoder.decode(reply.state)
        await self._accept(current)
        return current

    async def until(self, holds: Callable[[PartyView], bool], within: float = 10.0) -> PartyView:
        """Wait for a state for which ``holds`` is true."""
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(lambda: self.state is not None and holds(self.state))
            assert self.state is not None
            return self.state

    async def event(self, kind: type[Any], within: float = 10.0) -> Any:
        """The next event of type ``kind`` (others are dropped)."""
        async with asyncio.timeout(within):
            while not isinstance(event := await self.events.get(), kind):
                pass
            return event

    # Following the party --------------------------------------------------------------------------

    async def _accept(self, current: PartyView) -> None:
        """Take a newer state (publications from several instances may arrive out of order)."""
        if self.state is not None and current.revision <= self.state.revision:
            return
        older, self.previous, self.state = self.state, self.state, current
        if self.follow == "naive":
            self._apply_now(older.playback if older else None, current.playback)
        else:
            self._follow()
        async with self._changed:
            self._changed.notify_all()

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.tick_seconds)  # the correction loop's period
            self._follow()

    def _follow(self) -> None:
        """Make the player do what the state says now; schedule what it says for later."""
        now = self.server_now()
        if self.state is None or now is None:
            return
        playback = self.state.playback
        player = self.player
        if player.video_id != playback.video_id:
            player.load(playback.video_id)
        starting = playback.playing and not player.playing
        lead_in = self.start_latency_ms if starting and self.policy.compensate else 0.0
        if now + lead_in < playback.at - 1:
            self._prepare(playback, now, lead_in)
            return
        self._report_buffering(now)
        target = playback.position_at(now)
        if playback.playing:
            if starting:
                self._start(playback, now, lead_in)
                return
        elif player.playing:
            player.pause()
            return
        if player.busy:
            return
        drift_ms = (player.position() - target) * 1000
        if self._measure is not None and playback.playing:
            self._learn(drift_ms, playback.rate)
        decision = correct(
            self.policy,
            drift_ms=drift_ms,
            target=target,
            playing=playback.playing,
            party_rate=playback.rate,
            player_rate=player.rate,
        )
        if isinstance(decision, SeekTo):
            if playback.playing:
                ahead = self.seek_latency_ms if self.policy.compensate else 0.0
                player.seek(playback.position_at(now + ahead))
                self._measure = "seek"
            else:
                player.seek(decision.position)
        elif isinstance(decision, SetRate):
            player.set_rate(decision.rate)
        elif not playback.playing and player.rate != playback.rate:
            player.set_rate(playback.rate)

    def _start(self, playback: Playback, now: float, lead_in: float) -> None:
        """Start playing (a late joiner, or after a disconnect: seek to where the party is first)."""
        player = self.player
        player.set_rate(playback.rate)
        drift_ms = (player.position() - playback.position_at(now + lead_in)) * 1000
        if abs(drift_ms) >= self.policy.seek_from_ms:  # less is cheaper to catch up by rate
            ahead = self.seek_latency_ms if self.policy.compensate else 0.0
            player.seek(playback.position_at(now + ahead))
            self._measure = "seek"
        else:
            self._measure = None if player.busy else "start"
        player.play()

    def _prepare(self, playback: Playback, now: float, lead_in: float) -> None:
        """A change is coming at ``playback.at``. If it jumps, get there now, paused; either way,
        wake up when it is due (earlier by the player's start latency when it starts playback)."""
        previous = self.previous.playback if self.previous else None
        jumps = (
            previous is None
            or previous.video_id != playback.video_id
            or abs(previous.position_at(playback.at) - playback.position) > 0.001
        )
        player = self.player
        if jumps and self._prerolled != (playback.video_id, playback.version):
            self._prerolled = (playback.video_id, playback.version)  # once: it may start early
            if player.playing:
                player.pause()
            if abs(player.position() - playback.position) > 0.0005:
                player.seek(playback.position)
            if playback.playing and self.policy.compensate:
                lead_in = self.start_latency_ms  # paused now: it will start, and starting takes time
        if self._timer is not None:
            self._timer.cancel()
        delay = max(0.0, (playback.at - lead_in - now) / 1000)
        self._timer = asyncio.get_running_loop().call_later(delay, self._follow)

    def _learn(self, drift_ms: float, rate: float) -> None:
        """The first measurement after a start or a seek tells how late the player was."""
        late_ms = -drift_ms / rate
        if self.policy.compensate and self._measure == "start":
            self.start_latency_ms = max(0.0, min(1000.0, self.start_latency_ms + LEARNING * late_ms))
        elif self.policy.compensate and self._measure == "seek":
            self.seek_latency_ms = max(0.0, min(5000.0, self.seek_latency_ms + LEARNING * late_ms))
        self._measure = None

    def _report_buffering(self, now: float) -> None:
        """Buffering: the group wants to play and the player has not been able to for a while
        (a quick corrective seek does not count)."""
        assert self.state is not None
        if not self.player.busy:
            self._busy_since = None
        elif self._busy_since is None:
            self._busy_since = now
        held_up = self._busy_since is not None and now - self._busy_since > BUFFERING_AFTER_MS
        stuck = held_up and self.state.wants_to_play
        if stuck != self._buffering:
            self._buffering = stuck
            self._reports = [t for t in self._reports if not t.done() or t.exception() is not None]
            self._reports.append(asyncio.create_task(self.report(stuck)))

    def _apply_now(self, previous: Playback | None, playback: Playback) -> None:
        """The naive baseline: do what the state says as it arrives, from where it says."""
        player = self.player
        if player.video_id != playback.video_id:
            player.load(playback.video_id)
        jumped = previous is None or abs(previous.position_at(playback.at) - playback.position) > 0.001
        if jumped:
            player.seek(playback.position)
        if player.rate != playback.rate:
            player.set_rate(playback.rate)
        if playback.playing and not player.playing:
            player.play()
        elif not playback.playing and player.playing:
            player.pause()

"""What the party benchmark and tests simulate on the client side: a video player that takes time
to start and to seek and whose media clock runs slightly off, a client clock that is off by
seconds and runs slightly fast or slow, and a network leg with jittered latency.

Times are true wall-clock milliseconds (``true_ms``), the same in every process on one machine,
so a player's history (``segments``) can be compared with any other player's afterwards.
"""

from __future__ import annotations

import asyncio
import bisect
import random
import time
from collections.abc import AsyncIterator, Callable

import msgspec
import websockets
from websockets.asyncio.client import ClientConnection


def true_ms() -> float:
    return time.time_ns() / 1_000_000


class Segment(msgspec.Struct, array_like=True, frozen=True):
    """From ``start`` (true ms) the player is at ``position`` seconds and moves ``speed`` seconds
    of media per second."""

    start: float
    position: float
    speed: float


class Traits(msgspec.Struct, frozen=True):
    start_ms: tuple[float, float] = (5.0, 40.0)  # play() until the first frame moves
    pause_ms: tuple[float, float] = (0.0, 10.0)
    seek_ms: tuple[float, float] = (50.0, 300.0)  # buffering after a seek
    skew: float = 0.0  # the media clock's error: 0.001 plays 1 ms of media too much per second


class SimulatedPlayer:
    """A player with the latencies of a real one. ``playing`` is what it was asked to do; it moves
    only once started and not while seeking (``busy``)."""

    def __init__(self, traits: Traits, rng: random.Random, clock: Callable[[], float] = true_ms) -> None:
        self.traits = traits
        self._rng = rng
        self._clock = clock
        self.segments: list[Segment] = [Segment(clock(), 0.0, 0.0)]
        self.video_id: str | None = None
        self._playing = False
        self._starting = False
        self._seeking = False
        self._rate = 1.0
        self._transition: asyncio.TimerHandle | None = None  # a start or a pause taking effect
        self._seek: asyncio.TimerHandle | None = None  # a seek's buffering coming to an end
        self._changed = asyncio.Event()

    @property
    def playing(self) -> bool:
        return self._playing

    @property
    def busy(self) -> bool:
        return self._starting or self._seeking

    @property
    def rate(self) -> float:
        return self._rate

    def position(self) -> float:
        return self.position_at(self._clock())

    def position_at(self, at_ms: float) -> float:
        return position_at(self.segments, at_ms)

    async def until(self, holds: Callable[[SimulatedPlayer], bool], within: float = 10.0) -> None:
        """Wait until the player's state satisfies ``holds`` (checked after each change)."""
        async with asyncio.timeout(within):
            while not holds(self):
                self._changed.clear()
                await self._changed.wait()

    def _later(self, bounds: tuple[float, float], then: Callable[[], None]) -> asyncio.TimerHandle:
        delay = self._rng.uniform(*bounds) / 1000
        return asyncio.get_running_loop().call_later(delay, then)

    def _move(self, speed: float) -> None:
        now = self._clock()
        self._record(Segment(now, self.position_at(now), speed))

    def _record(self, segment: Segment) -> None:
        self.segments.append(segment)
        self._changed.set()

    def _speed(self) -> float:
        return self._rate * (1 + self.traits.skew)

    def _cancel_transition(self) -> None:
        if self._transition is not None:
            self._transition.cancel()
            self._transition = None

    def play(self) -> None:
        if self._playing:
            return
        self._playing = True
        if not self._seeking:  # a seek under way resumes playback by itself when done
            self._starting = True
            self._transition = self._later(self.traits.start_ms, self._started)

    def _started(self) -> None:
        self._starting = False
        self._transition = None
        self._move(self._speed())

    def pause(self) -> None:
        if not self._playing:
            return
        self._playing = False
        self._starting = False
        self._cancel_transition()
        if not self._seeking:  # while seeking the picture stands still anyway
            self._transition = self._later(self.traits.pause_ms, lambda: self._move(0.0))

    def seek(self, position: float) -> None:
        self._starting = False
        self._cancel_transition()
        if self._seek is not None:
            self._seek.cancel()
        self._seeking = True
        self._record(Segment(self._clock(), max(0.0, position), 0.0))
        self._seek = self._later(self.traits.seek_ms, self._sought)

    def _sought(self) -> None:
        self._seeking = False
        self._seek = None
        if self._playing:  # buffering over: playback goes on by itself
            self._move(self._speed())
        else:
            self._changed.set()

    def set_rate(self, rate: float) -> None:
        self._rate = rate
        if self.segments[-1].speed > 0:
            self._move(self._speed())

    def load(self, video_id: str) -> None:
        self.video_id = video_id
        self.seek(0.0)


def position_at(segments: list[Segment], at_ms: float) -> float:
    """Where a player with this history was at ``at_ms``."""
    index = bisect.bisect_right(segments, at_ms, key=lambda s: s.start) - 1
    segment = segments[max(0, index)]
    return segment.position + segment.speed * max(0.0, at_ms - segment.start) / 1000


class SkewedClock:
    """A client's clock: ``offset_ms`` off the true time and running ``skew`` fast (1e-4: 100 ppm)."""

    def __init__(self, offset_ms: float, skew: float = 0.0) -> None:
        self.offset_ms = offset_ms
        self.skew = skew
        self._origin = true_ms()

    def __call__(self) -> float:
        now = true_ms()
        return now + (now - self._origin) * self.skew + self.offset_ms


class LaggySocket:
    """A websocket whose frames each take a jittered one-way time in both directions, in order
    (a TCP stream never overtakes itself: a frame waits for the one before)."""

    def __init__(self, socket: ClientConnection, one_way_ms: Callable[[], float]) -> None:
        self._socket = socket
        self._one_way_ms = one_way_ms
        self._loop = asyncio.get_running_loop()
        self._outgoing: asyncio.Queue[tuple[float, str]] = asyncio.Queue()
        self._incoming: asyncio.Queue[tuple[float, str | bytes] | BaseException | None] = asyncio.Queue()
        self._sent_due = 0.0
        self._received_due = 0.0
        self._sender = asyncio.create_task(self._send())
        self._receiver = asyncio.create_task(self._receive())

    def _due(self, previous: float) -> float:
        return max(self._loop.time() + self._one_way_ms() / 1000, previous)

    async def send(self, message: str) -> None:
        self._sent_due = self._due(self._sent_due)
        self._outgoing.put_nowait((self._sent_due, message))

    async def _send(self) -> None:
        while True:
            due, message = await self._outgoing.get()
            await asyncio.sleep(max(0.0, due - self._loop.time()))  # the simulated network's delay
            try:
                await self._socket.send(message)
            except websockets.ConnectionClosed:
                return

    async def _receive(self) -> None:
        try:
            async for message in self._socket:
                self._received_due = self._due(self._received_due)
                self._incoming.put_nowait((self._received_due, message))
        except websockets.ConnectionClosed as closed:
            self._incoming.put_nowait(closed)
        else:
            self._incoming.put_nowait(None)

    async def __aiter__(self) -> AsyncIterator[str | bytes]:
        while (item := await self._incoming.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            due, message = item
            await asyncio.sleep(max(0.0, due - self._loop.time()))
            yield message

    async def close(self) -> None:
        self._sender.cancel()
        await self._socket.close()

    @property
    def close_code(self) -> int | None:
        return self._socket.close_code

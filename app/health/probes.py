"""One probe per configured backend; a probe returns quietly or raises why the backend is down."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from redis.asyncio import Redis

from core.db import Database
from core.redis_client import RedisClient
from core.settings import SettingsError
from realtime.outbox import Relay, backlog

Probe = Callable[[], Awaitable[None]]

# Events may wait this long in the outbox before an instance with no relay leading reports that
# nothing can be delivered: well past a failover (realtime/outbox.py LEASE_SECONDS) and the poll.
OUTBOX_STALL_SECONDS = 10.0

GRAPH_SCHEMES = ("falkor", "falkors", "redis", "rediss", "bolt", "neo4j", "bolt+s", "neo4j+s")


def redis_probe(client: RedisClient) -> Probe:
    async def probe() -> None:
        await client.ping()

    return probe


def graph_probe(url: str) -> Probe:
    scheme = urlsplit(url).scheme
    if scheme not in GRAPH_SCHEMES:
        raise SettingsError(f"MYDRTV_GRAPH_URL: unsupported scheme {scheme!r}; use {GRAPH_SCHEMES}")
    if scheme.startswith(("bolt", "neo4j")):
        return _neo4j_probe(url)
    redis_url = url.replace("falkor", "redis", 1) if scheme.startswith("falkor") else url

    async def probe() -> None:
        async with Redis.from_url(redis_url) as client:
            modules = await client.module_list()
        names = {m[b"name"] if b"name" in m else m.get("name") for m in modules}
        if b"graph" not in names and "graph" not in names:
            raise RuntimeError("the server answers but has no FalkorDB graph module loaded")

    return probe


def _neo4j_probe(url: str) -> Probe:
    from neo4j import AsyncGraphDatabase

    parts = urlsplit(url)
    auth = (parts.username, parts.password or "") if parts.username else None
    plain = parts._replace(netloc=(parts.hostname or "") + (f":{parts.port}" if parts.port else "")).geturl()

    async def probe() -> None:
        async with AsyncGraphDatabase.driver(plain, auth=auth) as driver:
            await driver.verify_connectivity()

    return probe


def outbox_probe(db: Database, relay: Relay | None, stall_seconds: float = OUTBOX_STALL_SECONDS) -> Probe:
    """Down when this instance's relay cannot reach PostgreSQL to lead or wait to lead, or when
    live events have waited longer than ``stall_seconds`` and no relay anywhere leads: either
    way, what this instance accepts would not reach anyone."""

    async def probe() -> None:
        if relay is not None and relay.trouble is not None:
            raise RuntimeError(f"this instance's outbox relay cannot reach PostgreSQL ({relay.trouble})")
        pending = await backlog(db)
        if pending.oldest_seconds > stall_seconds and not pending.led:
            raise RuntimeError(
                f"{pending.rows} event(s) waiting for {pending.oldest_seconds:.0f} s and no relay leads"
            )

    return probe

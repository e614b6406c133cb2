"""One probe per configured backend; a probe returns quietly or raises why the backend is down."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from redis.asyncio import Redis

from app.settings import SettingsError

Probe = Callable[[], Awaitable[None]]

GRAPH_SCHEMES = ("falkor", "falkors", "redis", "rediss", "bolt", "neo4j", "bolt+s", "neo4j+s")


def redis_probe(client: Redis) -> Probe:
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

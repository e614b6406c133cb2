"""Gateways behind a real load balancer (HAProxy, support/cluster.py): three gateways, an API and
a worker. While comments flow, one gateway drains (SIGTERM: its clients are sent off with 4001)
and another is killed (-9); every client reconnects through HAProxy to the live one, recovers
its history, and ends with every committed comment once and in order, without a reload.
"""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from realtime import protocol
from support.cluster import Cluster
from support.faults.rig import rig_settings
from support.faults.servers import Postgres, RedisServer
from support.faults.traffic import Subscriber, Writer
from support.haproxy import haproxy_binary
from support.people import person
from support.services import DatabaseFactory

pytestmark = pytest.mark.skipif(
    haproxy_binary() is None, reason="haproxy is missing: apt-get install haproxy"
)

PER_GATEWAY = 4


@pytest.fixture
async def cluster(
    fault_postgres: Postgres, fault_databases: DatabaseFactory, tmp_path: Path
) -> AsyncIterator[Cluster]:
    (tmp_path / "media").mkdir()
    redis = RedisServer()
    await redis.start()
    try:
        settings = await rig_settings(fault_databases, redis.url, storage_url=(tmp_path / "media").as_uri())
        async with Cluster.running(settings, tmp_path / "haproxy") as running:
            yield running
    finally:
        await redis.stop()


async def committed(database_url: str, video: str) -> set[int]:
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch("SELECT id FROM comments WHERE video_id = $1", uuid.UUID(video))
    finally:
        await connection.close()
    return {int(row["id"]) for row in rows}


async def test_a_drained_and_a_killed_gateway_lose_no_client_and_no_comment(cluster: Cluster) -> None:
    settings = cluster.api.settings
    author = await person(settings)
    async with httpx.AsyncClient(base_url=cluster.http_url, timeout=30) as api:
        created = await api.post("/videos", json={"title": "balanced"}, headers=author.headers)
        assert created.status_code == 201, created.text
        video = str(created.json()["id"])
        channel = f"video:{video}"
        expected = frozenset({protocol.CLOSE_BUS_GAP, protocol.CLOSE_SHUTDOWN})
        subscribers = [
            Subscriber(f"s{i}", cluster.ws_url, channel, expected_disconnects=expected)
            for i in range(PER_GATEWAY * len(cluster.gateways))
        ]
        done = asyncio.Event()
        readers = [asyncio.create_task(s.run(done)) for s in subscribers]
        await asyncio.wait_for(asyncio.gather(*(s.subscribed.wait() for s in subscribers)), 20)
        writer = Writer([api], author, video, rate=15.0)
        stop_writing = asyncio.Event()
        writing = asyncio.create_task(writer.run(stop_writing))
        try:
            await asyncio.sleep(1.0)
            drained, killed, live = cluster.gateways
            began = time.monotonic()
            await asyncio.gather(drained.stop(signal.SIGTERM), killed.stop(signal.SIGKILL))
            await asyncio.sleep(3.0)
        finally:
            stop_writing.set()
            await writing
        everything = await committed(settings.database_url, video)
        posted_after = [
            c for at, status, c in writer.answers if status == 201 and c is not None and at > began
        ]
        try:
            arrivals = await asyncio.gather(*(s.has(c, 20) for s in subscribers for c in everything))
        finally:
            done.set()
            await asyncio.gather(*readers)
    table = "\n".join(
        f"{s.name}: received {len(s.arrived)}/{len(everything)}, reloads {s.reloads}, closes {dict(s.closes)}"
        for s in subscribers
    )
    print(f"\ncommitted {len(everything)}, {len(posted_after)} after the faults\n{table}")
    assert {status for _, status, _ in writer.answers} == {201}, writer.answers
    assert posted_after, "nothing was posted after the faults"
    for s in subscribers:
        assert not s.violations, (s.name, s.violations)
        assert s.reloads == 0 and s.gaps == 0 and s.duplicates == 0, table
        assert sorted(r.comment for r in s.received) == sorted(everything), table  # once each
    sent_off = sum(
        s.closes.get(f"disconnect {protocol.CLOSE_SHUTDOWN} reconnect=True", 0) > 0 for s in subscribers
    )
    cut = sum(any(k.isdigit() and k != str(protocol.CLOSE_SHUTDOWN) for k in s.closes) for s in subscribers)
    assert sent_off >= PER_GATEWAY - 1 and cut >= 1, table  # both gateways had clients
    assert live.process is not None and live.process.returncode is None
    # From the faults to the first comment posted after them reaching every client.
    first_after = min(posted_after)
    back = max(s.arrived[first_after] for s in subscribers) - began
    every = max(arrivals) - began
    print(f"every client delivering again {back:.2f} s after the faults; all had all {every:.2f} s after")

"""``GET /metrics`` on a real `mydrtv serve` (PostgreSQL, Redis, FalkorDB): real traffic moves the
right series, the bearer token guards it, and it is not served unless enabled."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import httpx
import msgspec
import pytest
from prometheus_client.parser import text_string_to_metric_families

from clients.websocket import Client
from core.settings import Settings
from realtime import protocol
from realtime.bus.redis import RedisBus
from tests.app.video_helpers import roomy
from tests.processes import ServerProcess
from tests.realtime.test_slow_consumer import BODY, BUDGET, LIMIT, UnreadSocket, cut_offs
from tests.users import person

TOKEN = "scrape-" + uuid.uuid4().hex
Series = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture(scope="module")
def metered(settings: Settings, falkordb_url: str) -> Settings:
    return roomy(
        settings,
        metrics=True,
        metrics_token=TOKEN,
        graph_url=falkordb_url,
        graph_name=f"metrics-{uuid.uuid4().hex[:8]}",
        ws_send_buffer_bytes=LIMIT,
        ws_ping_seconds=120.0,  # the cut comes from the buffer bound
        ws_message_rate="500/second",
        popular_videos_cache_seconds=0,  # every recommendations request reads the graph
    )


@pytest.fixture(scope="module")
async def server(metered: Settings) -> AsyncIterator[ServerProcess]:
    process = ServerProcess(metered)
    await process.start()
    yield process
    assert await process.stop() == 0


@pytest.fixture(scope="module")
async def api(server: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.http_url, timeout=10) as client:
        yield client


async def scrape(api: httpx.AsyncClient) -> Series:
    response = await api.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(series: Series, name: str, **labels: str) -> float:
    return series.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_want_the_bearer_token(api: httpx.AsyncClient) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        refused = await api.get("/metrics", headers=headers)
        assert refused.status_code == 401
        assert refused.json()["error"] == "unauthorized"
        assert "mydrtv_" not in refused.text
    assert value(await scrape(api), "mydrtv_websocket_connections") >= 0


async def test_traffic_moves_the_series(
    api: httpx.AsyncClient, server: ServerProcess, metered: Settings
) -> None:
    author = await person(metered)
    created = await api.post("/videos", json={"title": "metered"}, headers=author.headers)
    assert created.status_code == 201, created.text
    video = created.json()["id"]
    channel = f"video:{video}"
    before = await scrape(api)

    first, _ = await Client.connect(server.ws_url, token=author.token)
    second, _ = await Client.connect(server.ws_url)
    subscribed = await first.subscribe(channel)
    await second.subscribe(channel)
    during = await scrape(api)
    assert value(during, "mydrtv_websocket_connections") == value(before, "mydrtv_websocket_connections") + 2
    assert (
        value(during, "mydrtv_subscriptions", kind="video")
        == value(before, "mydrtv_subscriptions", kind="video") + 2
    )

    comments = 3
    for n in range(comments):
        posted = await api.post(f"/videos/{video}/comments", json={"body": f"hi {n}"}, headers=author.headers)
        assert posted.status_code == 201, posted.text
    for client in (first, second):
        for _ in range(comments):
            assert msgspec.json.decode((await client.publication(10)).data)["type"] == "comment.created"

    # One late client recovers from a position the history holds, one from an epoch it does not.
    hit, _ = await Client.connect(server.ws_url)
    hit.positions[channel] = protocol.Recover(subscribed.epoch, subscribed.offset)
    assert (await hit.subscribe(channel, recover=True)).recovered
    miss, _ = await Client.connect(server.ws_url)
    miss.positions[channel] = protocol.Recover("no-such-epoch", 1)
    assert not (await miss.subscribe(channel, recover=True)).recovered

    # The author follows nobody: popular videos, read from the graph (no stored ranking to use).
    recommended = await api.get("/me/recommendations/videos", headers=author.headers)
    assert recommended.status_code == 200, recommended.text

    after = await scrape(api)

    def grew(name: str) -> float:
        return value(after, name) - value(before, name)

    assert grew("mydrtv_deliveries_total") >= 2 * comments
    assert grew("mydrtv_outbox_relayed_total") >= comments
    assert (
        value(after, "mydrtv_recoveries_total", result="hit")
        == value(before, "mydrtv_recoveries_total", result="hit") + 1
    )
    assert (
        value(after, "mydrtv_recoveries_total", result="miss")
        == value(before, "mydrtv_recoveries_total", result="miss") + 1
    )
    # By route template: one series for every video's comments, not one per id.
    posts = {"method": "POST", "route": "/videos/{video_id}/comments", "status": "201"}
    counted = "mydrtv_http_request_duration_seconds_count"
    assert value(after, counted, **posts) - value(before, counted, **posts) == comments
    assert not any(video in dict(labels).get("route", "") for _, labels in after)
    graph_queries = sum(v for k, v in after.items() if k[0] == "mydrtv_graph_query_duration_seconds_count")
    assert graph_queries > sum(
        v for k, v in before.items() if k[0] == "mydrtv_graph_query_duration_seconds_count"
    )
    assert value(after, "mydrtv_database_scrape_up") == 1
    assert value(after, "mydrtv_outbox_relay_leading") == 1
    assert ("mydrtv_transcode_jobs", (("state", "queued"),)) in after

    for client in (first, second, hit, miss):
        await client.close()


async def test_a_slow_consumer_cut_is_counted(
    api: httpx.AsyncClient, server: ServerProcess, metered: Settings
) -> None:
    channel = f"video:{uuid.uuid4().hex[:10]}"
    before = await scrape(api)
    slow = UnreadSocket(server.port)
    await slow.open((await person(metered)).token, channel)
    publisher = RedisBus(metered.redis_url, metered.redis_namespace)
    await publisher.start()
    try:
        published = 0
        most_waiting = 0.0
        while not cut_offs(server):
            assert published * len(BODY) < BUDGET, "the slow consumer was never cut off"
            await publisher.publish(channel, BODY)
            published += 1
            if published % 20 == 0:
                waiting = value(await scrape(api), "mydrtv_send_queue_bytes")
                most_waiting = max(most_waiting, waiting)
        # Once the kernel's buffers were full, bytes waited in the server: the gauge saw them.
        assert LIMIT / 2 < most_waiting < LIMIT
    finally:
        await publisher.stop()
    after = await scrape(api)
    cuts = value(after, "mydrtv_slow_consumer_cuts_total") - value(before, "mydrtv_slow_consumer_cuts_total")
    assert cuts == 1
    _, code = await asyncio.wait_for(slow.rest(), 30)
    assert code == protocol.CLOSE_SLOW_CONSUMER


async def test_metrics_are_off_unless_enabled(settings: Settings) -> None:
    process = ServerProcess(settings)
    await process.start()
    try:
        async with httpx.AsyncClient(base_url=process.http_url, timeout=10) as client:
            response = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert "mydrtv_websocket_connections" not in response.text
        assert response.status_code == 404
    finally:
        assert await process.stop() == 0

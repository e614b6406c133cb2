"""Two `mydrtv serve` gateways on a 3-primary Redis Cluster: comments posted on either reach the
clients of both, in order, on channels spread over every shard (sharded pub/sub), and a client
that was away recovers what it missed from history (``recovered: true``) on either gateway."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator

import httpx
import msgspec
import pytest
from redis.asyncio.cluster import RedisCluster

from clients.websocket import Client
from core.redis_client import redis_cluster
from core.settings import Settings
from realtime import protocol
from tests import processes
from tests.app.video_helpers import roomy
from tests.processes import ServerProcess
from tests.users import Person, person

COMMENTS_PER_VIDEO = 4


@pytest.fixture(scope="module")
def on_cluster(settings: Settings, redis_cluster_url: str) -> Settings:
    return roomy(settings, redis_url=redis_cluster_url)


@pytest.fixture(scope="module")
async def gateways(on_cluster: Settings) -> AsyncIterator[list[ServerProcess]]:
    async with processes.instances(on_cluster) as servers:
        yield servers


@pytest.fixture(scope="module")
async def http(gateways: list[ServerProcess]) -> AsyncIterator[list[httpx.AsyncClient]]:
    async with processes.http_clients(gateways) as clients:
        yield clients


async def videos_on_every_shard(api: httpx.AsyncClient, owner: Person, settings: Settings) -> list[str]:
    """New videos until their channels' slots cover every primary (two on each)."""
    cluster: RedisCluster = redis_cluster(settings.redis_url)
    await cluster.initialize()
    try:
        by_shard: dict[str, list[str]] = defaultdict(list)
        primaries = {node.name for node in cluster.get_primaries()}
        for _ in range(60):
            response = await api.post("/videos", json={"title": "sharded"}, headers=owner.headers)
            assert response.status_code == 201, response.text
            video = str(response.json()["id"])
            live = f"{settings.redis_namespace}:bus:{{video:{video}}}:live"
            owner_node = cluster.get_node_from_key(live)
            assert owner_node is not None
            by_shard[owner_node.name].append(video)
            if all(len(by_shard[name]) >= 2 for name in primaries):
                return [video for name in sorted(primaries) for video in by_shard[name][:2]]
        raise AssertionError(f"60 videos did not cover the shards: {dict(by_shard)}")
    finally:
        await cluster.aclose()


async def test_comments_cross_gateways_in_order_and_recover_on_a_cluster(
    gateways: list[ServerProcess], http: list[httpx.AsyncClient], on_cluster: Settings
) -> None:
    author = await person(on_cluster)
    videos = await videos_on_every_shard(http[0], author, on_cluster)
    channels = [f"video:{video}" for video in videos]
    clients = [(await Client.connect(server.ws_url))[0] for server in gateways]
    before: dict[str, protocol.Recover] = {}
    for client in clients:
        for channel in channels:
            subscribed = await client.subscribe(channel)
            before[channel] = protocol.Recover(subscribed.epoch, subscribed.offset)

    posted: dict[str, list[str]] = defaultdict(list)
    for n in range(COMMENTS_PER_VIDEO):
        for index, (video, channel) in enumerate(zip(videos, channels, strict=True)):
            api = http[(n + index) % 2]  # each gateway's API posts half of them
            body = f"comment {n} on {index}"
            response = await api.post(
                f"/videos/{video}/comments", json={"body": body}, headers=author.headers
            )
            assert response.status_code == 201, response.text
            posted[channel].append(body)

    expected = len(channels) * COMMENTS_PER_VIDEO
    for client in clients:
        seen: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for _ in range(expected):
            publication = await client.publication(within=10)
            event = msgspec.json.decode(publication.data)
            seen[publication.channel].append((publication.offset, event["comment"]["body"]))
        for channel in channels:
            offsets = [offset for offset, _ in seen[channel]]
            assert offsets == list(
                range(before[channel].offset + 1, before[channel].offset + 1 + COMMENTS_PER_VIDEO)
            )
            assert [body for _, body in seen[channel]] == posted[channel]
        await client.close()

    # A client away since before the first comment gets every one back, in order, on either gateway.
    for server in gateways:
        late, _ = await Client.connect(server.ws_url)
        for channel in channels:
            late.positions[channel] = before[channel]
            reply = await late.subscribe(channel, recover=True)
            assert reply.recovered, channel
            bodies = [msgspec.json.decode(p.data)["comment"]["body"] for p in reply.publications]
            assert bodies == posted[channel]
        await late.close()

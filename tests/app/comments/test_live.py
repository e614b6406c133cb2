"""Comments and ratings end to end on two `mydrtv serve` processes sharing PostgreSQL and Redis:
live delivery across instances, a removal that leaves no trace in recovery, and exact totals
under concurrent raters."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import msgspec
import pytest

from clients.websocket import Client
from core.settings import Settings
from realtime import protocol
from tests import processes
from tests.app.video_helpers import roomy
from tests.processes import ServerProcess
from tests.users import Person, person


@pytest.fixture(scope="module")
def social(settings: Settings) -> Settings:
    return roomy(settings)


@pytest.fixture(scope="module")
async def instances(social: Settings) -> AsyncIterator[list[ServerProcess]]:
    async with processes.instances(social) as servers:
        yield servers


@pytest.fixture(scope="module")
async def http(instances: list[ServerProcess]) -> AsyncIterator[list[httpx.AsyncClient]]:
    async with processes.http_clients(instances) as clients:
        yield clients


async def video_of(api: httpx.AsyncClient, owner: Person) -> str:
    response = await api.post("/videos", json={"title": "live"}, headers=owner.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def next_data(client: Client, within: float = 10.0) -> dict[str, Any]:
    publication = await client.publication(within)
    return dict(msgspec.json.decode(publication.data))


async def test_a_comment_crosses_instances_and_its_removal_leaves_no_trace(
    instances: list[ServerProcess], http: list[httpx.AsyncClient], social: Settings
) -> None:
    a, b = http
    author, moderator = await person(social), await person(social, "moderator")
    video = await video_of(a, author)
    channel = f"video:{video}"
    on_a, _ = await Client.connect(instances[0].ws_url)
    on_b, _ = await Client.connect(instances[1].ws_url, token=author.token)
    before = await on_a.subscribe(channel)
    await on_b.subscribe(channel)

    posted = await a.post(f"/videos/{video}/comments", json={"body": "hello from A"}, headers=author.headers)
    assert posted.status_code == 201
    seen_on_b = await next_data(on_b)
    assert seen_on_b == {"type": "comment.created", "comment": posted.json()}
    assert (await next_data(on_a))["type"] == "comment.created"

    comment_id = posted.json()["id"]
    removed = await b.post(
        f"/moderation/comments/{comment_id}/remove", json={"reason": "spam"}, headers=moderator.headers
    )
    assert removed.status_code == 204
    gone = await next_data(on_a)
    assert (gone["type"], gone["comment_id"], gone["reason"]) == ("comment.removed", comment_id, "removed")
    assert (await next_data(on_b))["type"] == "comment.removed"

    # A client that was away since before the comment recovers on either instance: no trace of it.
    for server in instances:
        late, _ = await Client.connect(server.ws_url)
        late.positions[channel] = protocol.Recover(before.epoch, before.offset)
        reply = await late.subscribe(channel, recover=True)
        assert reply.recovered
        recovered = [msgspec.json.decode(p.data) for p in reply.publications]
        assert [e["type"] for e in recovered] == ["comment.removed"]
        assert "hello from A" not in msgspec.json.encode(recovered).decode()
        await late.close()
    assert (await a.get(f"/videos/{video}/comments")).json()["items"] == []
    await on_a.close()
    await on_b.close()


async def test_fifty_concurrent_raters_leave_an_exact_aggregate(
    instances: list[ServerProcess], http: list[httpx.AsyncClient], social: Settings
) -> None:
    owner = await person(social)
    raters = list(await asyncio.gather(*(person(social) for _ in range(50))))
    video = await video_of(http[0], owner)
    watcher, _ = await Client.connect(instances[1].ws_url)
    await watcher.subscribe(f"video:{video}")

    async def rate(n: int, rater: Person, stars: int | None) -> None:
        api = http[n % 2]
        path = f"/videos/{video}/rating"
        if stars is None:
            response = await api.delete(path, headers=rater.headers)
        else:
            response = await api.put(path, json={"stars": stars}, headers=rater.headers)
        assert response.status_code == 200, response.text

    first = {n: 1 + n % 5 for n in range(50)}
    await asyncio.gather(*(rate(n, r, first[n]) for n, r in enumerate(raters)))
    # Everyone at once again: a third change their stars, a third remove theirs, a third keep them.
    second: dict[int, int | None] = {
        n: (None if n % 3 == 1 else 5 if n % 3 == 2 else first[n]) for n in range(50)
    }
    await asyncio.gather(*(rate(n, r, second[n]) for n, r in enumerate(raters) if n % 3))

    stars = [s for s in second.values() if s is not None]
    histogram = [Counter(stars)[s] for s in range(1, 6)]
    summary = (await http[1].get(f"/videos/{video}/rating")).json()
    assert (summary["count"], summary["histogram"]) == (len(stars), histogram)
    assert summary["mean"] == pytest.approx(sum(stars) / len(stars))

    # The live events, applied by the version rule, end on exactly the same totals.
    shown: dict[str, Any] = {"version": 0}
    received = 0
    while shown["version"] < summary["version"]:
        event = await next_data(watcher)
        received += 1
        if event["type"] == "rating" and event["version"] > shown["version"]:
            shown = event
    assert (shown["count"], shown["histogram"], shown["mean"]) == (
        summary["count"],
        summary["histogram"],
        summary["mean"],
    )
    assert received < 100 // 2  # 83 changes, coalesced
    await watcher.close()

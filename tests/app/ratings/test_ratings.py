"""Ratings through the API: set, change, remove, exact totals, what each change queues, and the
coalesced live ``rating`` events."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from core.db import Database
from core.settings import Settings
from graph.events import RatingChanged
from graph.events import decoder as graph_decoder
from server.factory import create_app
from tests.app.video_helpers import Client, new_video, next_event, roomy, video_channel, watching
from tests.users import Person, person


@pytest.fixture(scope="module")
def social(settings: Settings) -> Settings:
    return roomy(settings, rating_events_per_second=4.0)


@pytest.fixture(scope="module")
async def api(social: Settings) -> AsyncIterator[Client]:
    async with AsyncTestClient(app=create_app(social)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
async def db(social: Settings) -> AsyncIterator[Database]:
    database = Database("main", social.database_url)
    await database.start(max_size=2)
    yield database
    await database.stop()


async def rate(api: Client, who: Person, video: str, stars: Any) -> Any:
    return await api.put(f"/videos/{video}/rating", json={"stars": stars}, headers=who.headers)


async def test_set_change_and_remove_keep_the_totals_exact(api: Client, social: Settings) -> None:
    owner, ada, bob = await person(social), await person(social), await person(social)
    video = await new_video(api, owner)
    empty = (await api.get(f"/videos/{video}/rating")).json()
    assert empty == {
        "video_id": video,
        "count": 0,
        "mean": None,
        "histogram": [0] * 5,
        "version": 0,
        "mine": None,
    }

    first = (await rate(api, ada, video, 5)).json()
    assert (first["count"], first["mean"], first["histogram"], first["mine"]) == (1, 5.0, [0, 0, 0, 0, 1], 5)
    second = (await rate(api, bob, video, 2)).json()
    assert (second["count"], second["mean"], second["histogram"], second["mine"]) == (
        2,
        3.5,
        [0, 1, 0, 0, 1],
        2,
    )
    changed = (await rate(api, ada, video, 3)).json()
    assert (changed["count"], changed["mean"], changed["histogram"]) == (2, 2.5, [0, 1, 1, 0, 0])
    same = (await rate(api, ada, video, 3)).json()
    assert same == changed  # the same stars again change nothing, not even the version
    assert first["version"] < second["version"] < changed["version"]

    removed = await api.delete(f"/videos/{video}/rating", headers=bob.headers)
    assert removed.status_code == 200
    assert (removed.json()["count"], removed.json()["histogram"], removed.json()["mine"]) == (
        1,
        [0, 0, 1, 0, 0],
        None,
    )
    again = await api.delete(f"/videos/{video}/rating", headers=bob.headers)
    assert again.json()["version"] == removed.json()["version"]
    anonymous = (await api.get(f"/videos/{video}/rating")).json()
    mine = (await api.get(f"/videos/{video}/rating", headers=ada.headers)).json()
    assert (anonymous["mine"], mine["mine"], mine["count"]) == (None, 3, 1)


async def test_each_change_queues_the_graph_change_and_the_activity(
    api: Client, social: Settings, db: Database
) -> None:
    rater = await person(social)
    video = await new_video(api, rater)
    for stars in (4, 2):
        await rate(api, rater, video, stars)
    await api.delete(f"/videos/{video}/rating", headers=rater.headers)
    graph = await db.fetch("SELECT payload FROM outbox WHERE channel = '@graph' ORDER BY id")
    changes = [graph_decoder.decode(row["payload"]) for row in graph]
    mine = [c for c in changes if isinstance(c, RatingChanged) and c.video_id == video]
    assert mine == [RatingChanged(video_id=video, user_id=str(rater.id))] * 3
    activities = await db.fetch(
        "SELECT verb, data FROM activities WHERE actor_id = {} AND video_id = {} ORDER BY id", rater.id, video
    )
    assert [(a["verb"], msgspec.json.decode(a["data"])) for a in activities] == [
        ("rated", {"stars": 4}),
        ("rated", {"stars": 2}),
    ]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"stars": 0}, "invalid_request"),
        ({"stars": 6}, "invalid_request"),
        ({"stars": "five"}, "invalid_request"),
        ({"stars": 2.5}, "invalid_request"),
        ({}, "invalid_request"),
    ],
)
async def test_bad_ratings_are_refused(
    api: Client, social: Settings, body: dict[str, Any], code: str
) -> None:
    rater = await person(social)
    video = await new_video(api, rater)
    response = await api.put(f"/videos/{video}/rating", json=body, headers=rater.headers)
    assert (response.status_code, response.json()["error"]) == (400, code)
    assert (await api.get(f"/videos/{video}/rating")).json()["count"] == 0


async def test_unknown_and_private_videos_hide_their_ratings(api: Client, social: Settings) -> None:
    owner, stranger = await person(social), await person(social)
    private = await new_video(api, owner, visibility="private")
    await rate(api, owner, private, 4)
    for who in ({}, stranger.headers):
        response = await api.get(f"/videos/{private}/rating", headers=who)
        assert (response.status_code, response.json()["error"]) == (404, "video_not_found")
    assert (await rate(api, stranger, private, 1)).status_code == 404
    assert (await api.delete(f"/videos/{private}/rating", headers=stranger.headers)).status_code == 404
    assert (await api.get(f"/videos/{private}/rating", headers=owner.headers)).json()["count"] == 1
    assert (await rate(api, owner, "00000000-0000-4000-8000-000000000404", 3)).status_code == 404


async def test_a_burst_of_ratings_goes_out_as_a_few_events_ending_exact(
    api: Client, social: Settings, db: Database
) -> None:
    owner = await person(social)
    raters = [await person(social) for _ in range(30)]
    video = await new_video(api, owner)
    channel = video_channel(video)
    async with watching(social) as bus:
        await bus.subscribe(channel)
        started = time.monotonic()
        await asyncio.gather(*(rate(api, r, video, 1 + n % 5) for n, r in enumerate(raters)))
        final = (await api.get(f"/videos/{video}/rating")).json()
        events: list[dict[str, Any]] = []
        while not events or events[-1]["version"] < final["version"]:
            events.append(await next_event(bus, channel))
        elapsed = time.monotonic() - started
    assert final["count"] == 30 and final["histogram"] == [6] * 5 and final["mean"] == 3.0
    assert {e["type"] for e in events} == {"rating"}
    assert len(events) <= elapsed * social.rating_events_per_second + 2, (len(events), elapsed)
    newest = max(events, key=lambda e: e["version"])
    assert newest == {k: final[k] for k in ("video_id", "version", "count", "mean", "histogram")} | {
        "type": "rating"
    }
    (row,) = await db.fetch("SELECT version FROM rating_totals WHERE video_id = {}", video)
    assert row["version"] == final["version"]


async def test_rating_too_fast_is_429(settings: Settings) -> None:
    tight = roomy(settings, rating_rate="2/minute")
    async with AsyncTestClient(app=create_app(tight)) as api:
        who = await person(tight)
        video = await new_video(api, who)
        for stars in (1, 2):
            assert (await rate(api, who, video, stars)).status_code == 200
        response = await rate(api, who, video, 3)
    assert (response.status_code, response.json()["error"]) == (429, "too_fast")
    assert int(response.headers["retry-after"]) >= 1

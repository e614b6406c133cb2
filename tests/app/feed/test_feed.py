"""The activity feed: what the people you follow did, newest first, with what you may not see left out."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from app.feed.activity import Verb, record
from core.db import Database
from core.settings import Settings
from tests.app.video_helpers import make_playable
from tests.users import Person, person

Client = AsyncTestClient[Any]


@pytest.fixture(scope="module")
async def db(settings: Settings) -> AsyncIterator[Database]:
    database = Database("main", settings.database_url)
    await database.start(max_size=2)
    yield database
    await database.stop()


async def did(db: Database, actor: Person, verb: Verb, **about: Any) -> int:
    """What the other features do: an activity in the transaction of their change."""
    async with db.engine.transaction():
        return await record(db, actor.id, verb, **about)


async def follow(client: Client, who: Person, whom: Person) -> None:
    assert (await client.put(f"/me/following/{whom.id}", headers=who.headers)).status_code == 204


async def video(client: Client, owner: Person, visibility: str = "public", ready: bool = True) -> uuid.UUID:
    """A video of ``owner``'s, transcoded (playable) unless ``ready`` is false (a draft)."""
    response = await client.post(
        "/videos", json={"title": "clip", "visibility": visibility}, headers=owner.headers
    )
    video_id = uuid.UUID(response.json()["id"])
    if ready:
        await make_playable(client.app.state.database_url, video_id)
    return video_id


async def feed(client: Client, reader: Person, **params: Any) -> dict[str, Any]:
    response = await client.get("/me/feed", headers=reader.headers, params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_the_feed_shows_followed_people_newest_first_page_by_page(
    client: Client, db: Database, settings: Settings
) -> None:
    me, ada, bob, stranger = [await person(settings) for _ in range(4)]
    await follow(client, me, ada)
    await follow(client, me, bob)
    clip = await video(client, ada)
    first = await did(db, ada, "uploaded", video_id=clip)
    second = await did(db, bob, "rated", video_id=clip, data={"stars": 5})
    await did(db, stranger, "rated", video_id=clip)  # not followed: not in my feed
    await follow(client, ada, bob)  # "followed", recorded by the follow itself
    third = await did(db, bob, "commented", video_id=clip, object_id="c1", data={"text": "nice"})

    page = await feed(client, me, limit=2)
    assert [item["verb"] for item in page["items"]] == ["commented", "followed"]
    assert page["items"][0]["id"] == third
    assert page["items"][0]["data"] == {"text": "nice"} and page["items"][0]["object_id"] == "c1"
    assert page["items"][1]["actor"]["id"] == str(ada.id) and page["items"][1]["subject"]["id"] == str(bob.id)
    rest = await feed(client, me, limit=2, cursor=page["next_cursor"])
    assert [item["id"] for item in rest["items"]] == [second, first] and rest["next_cursor"] is None
    assert rest["items"][0]["video"] == {"id": str(clip), "title": "clip"}

    # Unfollowing takes the "followed" item back: it is no longer true.
    await client.delete(f"/me/following/{bob.id}", headers=ada.headers)
    assert "followed" not in [item["verb"] for item in (await feed(client, me))["items"]]
    assert (await client.get("/me/feed")).status_code == 401


async def test_mutes_blocks_and_private_videos_are_respected_at_read_time(
    client: Client, db: Database, settings: Settings
) -> None:
    me, ada, muted, blocker, owner, hostile = [await person(settings) for _ in range(6)]
    for whom in (ada, muted):
        await follow(client, me, whom)
    public, private = await video(client, owner), await video(client, owner, "private")
    await client.put(f"/videos/{private}/members/{ada.id}", headers=owner.headers)
    kept = await did(db, ada, "rated", video_id=public)
    secret = await did(db, ada, "rated", video_id=private)
    await did(db, muted, "rated", video_id=public)
    await did(db, ada, "rated", video_id=await video(client, hostile))
    about_blocker = await did(db, ada, "followed", subject_id=blocker.id)
    assert [i["id"] for i in (await feed(client, me))["items"]][:1] == [about_blocker]

    await client.put(f"/me/mutes/{muted.id}", headers=me.headers)
    await client.put(f"/me/blocks/{me.id}", headers=blocker.headers)
    await client.put(f"/me/blocks/{hostile.id}", headers=me.headers)  # their video, rated by ada
    assert [i["id"] for i in (await feed(client, me))["items"]] == [kept]  # private: not a member

    await client.put(f"/videos/{private}/members/{me.id}", headers=owner.headers)
    assert [i["id"] for i in (await feed(client, me))["items"]] == [secret, kept]
    await client.delete(f"/me/mutes/{muted.id}", headers=me.headers)
    await client.delete(f"/me/blocks/{hostile.id}", headers=me.headers)
    assert len((await feed(client, me))["items"]) == 4


async def test_a_page_fills_up_past_hidden_items(client: Client, db: Database, settings: Settings) -> None:
    me, ada, owner = [await person(settings) for _ in range(3)]
    await follow(client, me, ada)
    private = await video(client, owner, "private")
    visible = await did(db, ada, "uploaded", video_id=await video(client, ada))
    for _ in range(5):
        await did(db, ada, "rated", video_id=private)
    page = await feed(client, me, limit=1)
    assert [item["id"] for item in page["items"]] == [visible] and page["next_cursor"] is None


async def test_items_about_a_video_that_cannot_play_are_left_out(
    client: Client, db: Database, settings: Settings
) -> None:
    """A draft or a failed upload is not offered to watch, not even through a friend's rating;
    the item shows once the video plays."""
    me, ada, owner = [await person(settings) for _ in range(3)]
    await follow(client, me, ada)
    draft, failed = await video(client, owner, ready=False), await video(client, owner, ready=False)
    await db.fetch("UPDATE videos SET status = 'failed' WHERE id = {}", failed)
    about_draft = await did(db, ada, "rated", video_id=draft, data={"stars": 5})
    await did(db, ada, "rated", video_id=failed, data={"stars": 5})
    assert (await feed(client, me))["items"] == []

    await make_playable(settings.database_url, draft)
    assert [item["id"] for item in (await feed(client, me))["items"]] == [about_draft]

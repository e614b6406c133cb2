"""Comments through the API: threads, pages, edits, deletion, bad input, private videos, and what
goes out live (and stays out of history)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import msgspec
import pytest
from litestar.testing import AsyncTestClient

from app.comments.events import CommentCreated, encoder
from app.comments.posting import CREATED_AT_JSON
from app.comments.schemas import Comment
from app.feed.activity import ActivityRecorded
from core.settings import Settings
from server.factory import create_app
from tests.app.video_helpers import (
    Client,
    history,
    new_video,
    next_event,
    post,
    roomy,
    video_channel,
    watching,
)
from tests.users import Person, person


@pytest.fixture(scope="module")
def social(settings: Settings) -> Settings:
    return roomy(settings, comment_max_chars=50)


@pytest.fixture(scope="module")
async def api(social: Settings) -> AsyncIterator[Client]:
    async with AsyncTestClient(app=create_app(social)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
async def owner(social: Settings) -> Person:
    return await person(social)


async def sql(settings: Settings, query: str, *args: Any) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(settings.database_url)
    try:
        return list(await connection.fetch(query, *args))
    finally:
        await connection.close()


async def test_a_comment_is_stored_listed_sent_live_and_recorded(
    api: Client, social: Settings, owner: Person
) -> None:
    video = await new_video(api, owner)
    async with watching(social) as bus:
        await bus.subscribe(video_channel(video))
        comment = await post(api, owner, video, "  first!  ", position_seconds=12.5)
        event = await next_event(bus, video_channel(video))
    assert comment["body"] == "first!" and comment["status"] == "visible"
    assert comment["author"] == {"id": str(owner.id), "handle": owner.handle}
    assert (comment["position_seconds"], comment["parent_id"], comment["root_id"]) == (12.5, None, None)
    assert event == {"type": "comment.created", "comment": comment}
    page = (await api.get(f"/videos/{video}/comments")).json()
    assert page == {"items": [comment], "next_cursor": None}
    assert (await api.get(f"/comments/{comment['id']}")).json() == comment
    activity = await sql(
        social, "SELECT verb, video_id::text, data FROM activities WHERE object_id = $1", str(comment["id"])
    )
    assert [(a["verb"], a["video_id"]) for a in activity] == [("commented", video)]
    assert msgspec.json.decode(activity[0]["data"]) == {"excerpt": "first!"}


async def test_a_plain_comments_event_is_the_bytes_its_row_encodes_to(
    api: Client, social: Settings, owner: Person
) -> None:
    """A plain comment's event is put together by PostgreSQL (app/comments/posting.py): the same
    bytes as encoding the stored comment, whatever its text, with its keys on the right rows."""
    video = await new_video(api, owner)
    marks = '"created_at":"1999-09-09T09:09:09.090909Z"\\é😀'
    for body, position in ((marks, None), ('"id":-987654321, {}', None), ("plain", 3.25)):
        posted = await post(api, owner, video, body, position_seconds=position)
        comment = msgspec.json.decode(msgspec.json.encode(posted), type=Comment)
        (row,) = await sql(social, "SELECT publication_keys FROM comments WHERE id = $1", comment.id)
        event_key, feed_key = row["publication_keys"]
        assert feed_key.startswith("feed:outbox:")
        rows = await sql(
            social,
            "SELECT id, channel, payload FROM outbox WHERE id = ANY($1::bigint[]) ORDER BY id",
            [int(event_key.removeprefix("outbox:")), int(feed_key.removeprefix("feed:outbox:"))],
        )
        assert [r["channel"] for r in rows] == [video_channel(video), "@feed"]
        assert rows[0]["payload"] == encoder.encode(CommentCreated(comment))
        (activity,) = await sql(social, "SELECT id FROM activities WHERE object_id = $1", str(comment.id))
        assert rows[1]["payload"] == msgspec.json.encode(ActivityRecorded(activity["id"]))
    for at in (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, 0, 0, 0, 1200, tzinfo=UTC)):
        (row,) = await sql(
            social, f"SELECT {CREATED_AT_JSON} AS at FROM (SELECT $1::timestamptz AS created_at) c", at
        )
        assert row["at"] == msgspec.json.encode(at).decode().strip('"')


async def test_replies_make_one_thread_read_in_order(api: Client, social: Settings, owner: Person) -> None:
    video = await new_video(api, owner)
    other = await person(social)
    root = await post(api, owner, video, "root")
    reply = await post(api, other, video, "reply", parent_id=root["id"])
    deeper = await post(api, owner, video, "reply to the reply", parent_id=reply["id"])
    assert (reply["parent_id"], reply["root_id"]) == (root["id"], root["id"])
    assert (deeper["parent_id"], deeper["root_id"]) == (reply["id"], root["id"])

    top = (await api.get(f"/videos/{video}/comments")).json()["items"]
    assert [c["id"] for c in top] == [root["id"]] and top[0]["reply_count"] == 2
    thread = (await api.get(f"/comments/{root['id']}/replies")).json()
    assert [c["body"] for c in thread["items"]] == ["reply", "reply to the reply"]
    not_root = await api.get(f"/comments/{reply['id']}/replies")
    assert not_root.status_code == 400 and not_root.json()["details"] == {"root_id": root["id"]}
    elsewhere = await new_video(api, owner)
    cross = await api.post(
        f"/videos/{elsewhere}/comments", json={"body": "x", "parent_id": root["id"]}, headers=owner.headers
    )
    assert cross.status_code == 404 and cross.json()["error"] == "comment_not_found"


async def pages(api: Client, path: str, **params: Any) -> list[list[int]]:
    seen: list[list[int]] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        page = (await api.get(path, params=query)).json()
        seen.append([c["id"] for c in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            return seen


async def test_keyset_pages_newest_first_and_threads_oldest_first(api: Client, owner: Person) -> None:
    video = await new_video(api, owner)
    made = [(await post(api, owner, video, f"n{n}"))["id"] for n in range(5)]
    assert await pages(api, f"/videos/{video}/comments", limit=2) == [made[:2:-1], made[2:0:-1], made[:1]]
    replies = [(await post(api, owner, video, f"r{n}", parent_id=made[0]))["id"] for n in range(3)]
    assert await pages(api, f"/comments/{made[0]}/replies", limit=2) == [replies[:2], replies[2:]]
    bad = await api.get(f"/videos/{video}/comments", params={"cursor": "nonsense"})
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_cursor"


async def test_the_timeline_replays_comments_by_media_position(api: Client, owner: Person) -> None:
    video = await new_video(api, owner)
    at = {p: (await post(api, owner, video, f"at {p}", position_seconds=p))["id"] for p in (30.0, 5.0, 12.0)}
    await post(api, owner, video, "not anchored")
    same_moment = (await post(api, owner, video, "also at 12", position_seconds=12.0))["id"]
    path = f"/videos/{video}/comments/timeline"
    assert await pages(api, path, limit=2) == [[at[5.0], at[12.0]], [same_moment, at[30.0]]]
    window = (await api.get(path, params={"start": 10, "end": 30})).json()["items"]
    assert [c["id"] for c in window] == [at[12.0], same_moment]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"body": ""}, 400, "empty_comment"),
        ({"body": " \n\t "}, 400, "empty_comment"),
        ({"body": "x" * 51}, 400, "comment_too_long"),
        ({"body": "nul \x00 byte"}, 400, "invalid_characters"),
        ({"body": "hi", "position_seconds": -1}, 400, "invalid_request"),
        ({"body": "hi", "parent_id": 999_999_999}, 404, "comment_not_found"),
        ({"text": "hi"}, 400, "invalid_request"),
    ],
)
async def test_bad_comments_are_refused(
    api: Client, owner: Person, body: dict[str, Any], status: int, code: str
) -> None:
    video = await new_video(api, owner)
    response = await api.post(f"/videos/{video}/comments", json=body, headers=owner.headers)
    assert (response.status_code, response.json()["error"]) == (status, code), response.text
    assert (await api.get(f"/videos/{video}/comments")).json()["items"] == []


async def test_an_anchor_past_the_end_of_the_media_is_refused(
    api: Client, social: Settings, owner: Person
) -> None:
    video = await new_video(api, owner)
    await sql(social, "UPDATE videos SET duration_seconds = 60 WHERE id = $1::uuid", video)
    late = await api.post(
        f"/videos/{video}/comments", json={"body": "x", "position_seconds": 61}, headers=owner.headers
    )
    assert (late.status_code, late.json()["error"]) == (400, "position_out_of_range")
    assert late.json()["details"] == {"duration_seconds": 60.0}
    await post(api, owner, video, "at the very end", position_seconds=60)


async def test_unknown_things_are_404(api: Client, owner: Person) -> None:
    unknown = "00000000-0000-4000-8000-000000000404"
    posted = await api.post(f"/videos/{unknown}/comments", json={"body": "hi"}, headers=owner.headers)
    assert (posted.status_code, posted.json()["error"]) == (404, "video_not_found")
    for path in ("/comments/987654321", "/comments/987654321/replies"):
        response = await api.get(path)
        assert (response.status_code, response.json()["error"]) == (404, "comment_not_found")
    edit = await api.patch("/comments/987654321", json={"body": "x"}, headers=owner.headers)
    assert edit.status_code == 404


async def test_the_author_edits_within_the_window_only(api: Client, social: Settings, owner: Person) -> None:
    video = await new_video(api, owner)
    other = await person(social)
    async with watching(social) as bus:
        await bus.subscribe(video_channel(video))
        comment = await post(api, owner, video, "typo")
        assert (await next_event(bus, video_channel(video)))["type"] == "comment.created"
        edited = await api.patch(f"/comments/{comment['id']}", json={"body": "fixed"}, headers=owner.headers)
        event = await next_event(bus, video_channel(video))
    assert edited.status_code == 200
    assert edited.json()["body"] == "fixed" and edited.json()["edited_at"] is not None
    assert event == {"type": "comment.edited", "comment": edited.json()}

    refused = await api.patch(f"/comments/{comment['id']}", json={"body": "mine"}, headers=other.headers)
    assert (refused.status_code, refused.json()["error"]) == (403, "not_author")
    too_long = await api.patch(f"/comments/{comment['id']}", json={"body": "y" * 51}, headers=owner.headers)
    assert too_long.status_code == 400
    await sql(social, "UPDATE comments SET created_at = now() - interval '1 h' WHERE id = $1", comment["id"])
    late = await api.patch(f"/comments/{comment['id']}", json={"body": "later"}, headers=owner.headers)
    assert (late.status_code, late.json()["error"]) == (403, "edit_window_closed")
    assert (await api.get(f"/comments/{comment['id']}")).json()["body"] == "fixed"


async def test_deleting_your_own_comment_erases_it_live_and_from_history(
    api: Client, social: Settings, owner: Person
) -> None:
    video = await new_video(api, owner)
    other = await person(social)
    async with watching(social) as bus:
        # Subscribed before anything is posted, and each earlier event awaited, so the relay's
        # publication of the edit cannot arrive where the removal is expected.
        await bus.subscribe(video_channel(video))
        kept = await post(api, other, video, "kept")
        gone = await post(api, owner, video, "regret")
        await api.patch(f"/comments/{gone['id']}", json={"body": "regret, edited"}, headers=owner.headers)
        refused = await api.delete(f"/comments/{gone['id']}", headers=other.headers)
        assert (refused.status_code, refused.json()["error"]) == (403, "not_author")
        earlier = [await next_event(bus, video_channel(video)) for _ in range(3)]
        assert [e["type"] for e in earlier] == ["comment.created", "comment.created", "comment.edited"]
        assert (await api.delete(f"/comments/{gone['id']}", headers=owner.headers)).status_code == 204
        event = await next_event(bus, video_channel(video))
        assert event == {
            "type": "comment.removed",
            "video_id": video,
            "comment_id": gone["id"],
            "root_id": None,
            "reason": "deleted",
        }
        events = await history(bus, video_channel(video))
    assert [(e["type"], e.get("comment", {}).get("id")) for e in events] == [
        ("comment.created", kept["id"]),
        ("comment.removed", None),
    ]
    assert "regret" not in msgspec.json.encode(events).decode()
    assert (await api.get(f"/comments/{gone['id']}")).status_code == 404
    assert [c["id"] for c in (await api.get(f"/videos/{video}/comments")).json()["items"]] == [kept["id"]]
    (row,) = await sql(social, "SELECT status, body FROM comments WHERE id = $1", gone["id"])
    assert (row["status"], row["body"]) == ("deleted", "")
    assert await sql(social, "SELECT 1 FROM activities WHERE object_id = $1", str(gone["id"])) == []
    assert (await api.delete(f"/comments/{gone['id']}", headers=owner.headers)).status_code == 404


async def test_hiding_a_top_level_comment_hides_its_thread(
    api: Client, social: Settings, owner: Person
) -> None:
    video = await new_video(api, owner)
    root = await post(api, owner, video, "root")
    reply = await post(api, await person(social), video, "reply", parent_id=root["id"], position_seconds=3)
    await api.delete(f"/comments/{root['id']}", headers=owner.headers)
    assert (await api.get(f"/comments/{reply['id']}")).status_code == 404
    assert (await api.get(f"/comments/{root['id']}/replies")).status_code == 404
    assert (await api.get(f"/videos/{video}/comments/timeline")).json()["items"] == []


async def test_a_private_videos_comments_are_invisible_to_others(
    api: Client, social: Settings, owner: Person
) -> None:
    video = await new_video(api, owner, visibility="private")
    member, stranger = await person(social), await person(social)
    await api.put(f"/videos/{video}/members/{member.id}", headers=owner.headers)
    comment = await post(api, member, video, "members only")
    paths = [
        f"/videos/{video}/comments",
        f"/videos/{video}/comments/timeline",
        f"/comments/{comment['id']}",
        f"/comments/{comment['id']}/replies",
    ]
    for path in paths:
        assert (await api.get(path, headers=owner.headers)).status_code == 200, path
        for who in ({}, stranger.headers):
            response = await api.get(path, headers=who)
            assert response.status_code == 404, (path, who)
    posted = await api.post(f"/videos/{video}/comments", json={"body": "let me in"}, headers=stranger.headers)
    assert (posted.status_code, posted.json()["error"]) == (404, "video_not_found")
    reported = await api.post(
        f"/comments/{comment['id']}/reports", json={"reason": "x"}, headers=stranger.headers
    )
    assert reported.status_code == 404


async def test_posting_too_fast_is_429_with_retry_after(settings: Settings) -> None:
    tight = roomy(settings, comment_rate="2/minute")
    async with AsyncTestClient(app=create_app(tight)) as api:
        who = await person(tight)
        video = await new_video(api, who)
        for n in range(2):
            await post(api, who, video, f"n{n}")
        response = await api.post(f"/videos/{video}/comments", json={"body": "n2"}, headers=who.headers)
    assert (response.status_code, response.json()["error"]) == (429, "too_fast")
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert response.json()["details"]["retry_after"] == int(response.headers["retry-after"])

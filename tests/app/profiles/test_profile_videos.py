"""The videos a profile page lists (``GET /users/{handle}/videos``), against the real databases."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from litestar.testing import AsyncTestClient

from core.settings import Settings
from tests.app.video_helpers import new_video
from tests.users import Person, person

Client = AsyncTestClient[Any]


async def _set_status(settings: Settings, videos: list[str], status: str) -> None:
    """What the transcoder does to the catalog rows (``ready`` gets a media generation)."""
    connection = await asyncpg.connect(settings.database_url)
    try:
        await connection.execute(
            "UPDATE videos SET status = $1::text,"
            " media_generation = CASE WHEN $1::text = 'ready' THEN 'g1' ELSE media_generation END"
            " WHERE id = ANY($2)",
            status,
            [uuid.UUID(video) for video in videos],
        )
    finally:
        await connection.close()


async def _ready(api: Client, settings: Settings, who: Person, **fields: Any) -> str:
    video = await new_video(api, who, **fields)
    await _set_status(settings, [video], "ready")
    return video


async def _ids(api: Client, handle: str, headers: dict[str, str] | None = None, **query: Any) -> list[str]:
    response = await api.get(f"/users/{handle}/videos", params=query, headers=headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def _walk(api: Client, handle: str, limit: int) -> list[list[str]]:
    """Every page of the list, following ``next_cursor`` to the end."""
    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        body = (await api.get(f"/users/{handle}/videos", params=params)).json()
        pages.append([item["id"] for item in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


async def test_only_public_ready_videos_are_listed_newest_first_for_every_caller(
    api: Client, settings: Settings
) -> None:
    ada, stranger = await person(settings), await person(settings)
    first = await _ready(api, settings, ada, title="First")
    hidden = [
        await _ready(api, settings, ada, visibility="private"),
        await _ready(api, settings, ada, visibility="unlisted"),
        await new_video(api, ada),  # a draft
    ]
    failed, processing = await new_video(api, ada), await new_video(api, ada)
    await _set_status(settings, [failed], "failed")
    await _set_status(settings, [processing], "processing")
    second = await _ready(api, settings, ada, title="Second")
    await _ready(api, settings, stranger)  # someone else's

    expected = [second, first]
    assert await _ids(api, ada.handle) == expected  # anonymous
    assert await _ids(api, ada.handle.upper(), headers=stranger.headers) == expected
    # The owner sees the page as others do.
    assert await _ids(api, ada.handle, headers=ada.headers) == expected
    assert not {*hidden, failed, processing} & set(expected)
    body = (await api.get(f"/users/{ada.handle}/videos")).json()
    assert body["next_cursor"] is None
    assert [(v["title"], v["owner"]["handle"], v["status"]) for v in body["items"]] == [
        ("Second", ada.handle, "ready"),
        ("First", ada.handle, "ready"),
    ]
    counted = (await api.get(f"/users/{ada.handle}")).json()["counts"]["videos"]
    assert counted == len(expected)  # the page's count and its list agree


async def test_a_person_without_public_videos_has_an_empty_last_page(api: Client, settings: Settings) -> None:
    quiet = await person(settings)
    await new_video(api, quiet, visibility="private")
    response = await api.get(f"/users/{quiet.handle}/videos")
    assert response.status_code == 200, response.text
    assert response.json() == {"items": [], "next_cursor": None}


async def test_pages_follow_the_cursor_and_stay_stable_while_videos_come_and_go(
    api: Client, settings: Settings
) -> None:
    ada = await person(settings)
    made = [await _ready(api, settings, ada, title=f"Video {n}") for n in range(5)]
    newest_first = made[::-1]
    assert await _walk(api, ada.handle, limit=2) == [newest_first[0:2], newest_first[2:4], newest_first[4:]]

    page = (await api.get(f"/users/{ada.handle}/videos", params={"limit": 2})).json()
    assert [item["id"] for item in page["items"]] == newest_first[0:2]
    # Meanwhile a new video appears and one not yet listed is made private: the next page goes on
    # from where the first ended, with no repeat and no gap, and leaves the private one out.
    newer = await _ready(api, settings, ada, title="Newer")
    private = {"visibility": "private"}
    changed = await api.patch(f"/videos/{newest_first[3]}", json=private, headers=ada.headers)
    assert changed.status_code == 200, changed.text
    rest = await _ids(api, ada.handle, limit=10, cursor=page["next_cursor"])
    assert rest == [newest_first[2], newest_first[4]]
    assert newer not in rest
    assert (await _ids(api, ada.handle, limit=10))[0] == newer


async def test_an_unknown_handle_is_user_not_found(api: Client, settings: Settings) -> None:
    for path in ("/users/nobody_by_this_name/videos", "/users/a%00b/videos"):
        response = await api.get(path)
        assert response.status_code == 404, path
        assert response.json()["error"] == "user_not_found"


async def test_someone_who_blocked_you_answers_as_their_profile_does(api: Client, settings: Settings) -> None:
    me, blocker = await person(settings), await person(settings)
    shown = await _ready(api, settings, blocker)
    assert (await api.put(f"/me/blocks/{me.id}", headers=blocker.headers)).status_code == 204

    profile = await api.get(f"/users/{blocker.handle}", headers=me.headers)
    videos = await api.get(f"/users/{blocker.handle}/videos", headers=me.headers)
    assert profile.status_code == videos.status_code == 404
    assert profile.json() == videos.json()  # same reason, same words: nothing tells the two apart
    assert videos.json()["error"] == "user_not_found"

    assert await _ids(api, blocker.handle) == [shown]  # anonymous: public
    # The blocker still sees the page of the one they blocked, as on the profile.
    mine = await _ready(api, settings, me)
    assert await _ids(api, me.handle, headers=blocker.headers) == [mine]
    assert (await api.get(f"/users/{me.handle}", headers=blocker.headers)).status_code == 200


async def test_bad_paging_parameters_are_400_with_a_reason(api: Client, settings: Settings) -> None:
    ada = await person(settings)
    for cursor in ("not-a-cursor", "WyJub3QgYSB0aW1lIl0", "W10"):
        response = await api.get(f"/users/{ada.handle}/videos", params={"cursor": cursor})
        assert response.status_code == 400, cursor
        assert response.json()["error"] == "invalid_cursor"
    for limit in ("0", "101", "many"):
        response = await api.get(f"/users/{ada.handle}/videos", params={"limit": limit})
        assert response.status_code == 400, limit
        assert response.json()["error"] == "invalid_request"

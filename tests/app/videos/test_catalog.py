"""The catalog: create, list, change and delete videos, and who may see a private one."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from app.videos import demo
from core.db import Database
from core.settings import Settings
from tests.users import Person, person

Client = AsyncTestClient[Any]


@pytest.fixture(scope="module")
async def owner(settings: Settings) -> Person:
    return await person(settings)


async def new_video(client: Client, who: Person, **fields: Any) -> dict[str, Any]:
    body = {"title": "A video", **fields}
    response = await client.post("/videos", json=body, headers=who.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_a_new_video_belongs_to_its_creator(client: Client, owner: Person) -> None:
    video = await new_video(client, owner, title="  Holiday  ", description="sun")
    assert video["owner"] == {"id": str(owner.id), "handle": owner.handle}
    assert (video["title"], video["description"], video["visibility"]) == ("Holiday", "sun", "public")
    assert video["status"] == "draft" and video["duration_seconds"] is None
    fetched = await client.get(f"/videos/{video['id']}")
    assert fetched.status_code == 200 and fetched.json() == video


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "invalid_request"),
        ({"title": ""}, "invalid_request"),
        ({"title": "   "}, "invalid_title"),
        ({"title": "x" * 201}, "invalid_request"),
        ({"title": "ok", "visibility": "secret"}, "invalid_request"),
        ({"title": "ok", "status": "ready"}, "invalid_request"),
    ],
)
async def test_bad_videos_are_refused(client: Client, owner: Person, body: dict[str, Any], code: str) -> None:
    response = await client.post("/videos", json=body, headers=owner.headers)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == code


async def test_creating_needs_a_signed_in_user(client: Client) -> None:
    response = await client.post("/videos", json={"title": "anonymous"})
    assert response.status_code == 401


async def test_public_list_is_newest_first_by_keyset_pages(client: Client, settings: Settings) -> None:
    someone = await person(settings)
    made = [await new_video(client, someone, title=f"page {n}") for n in range(5)]
    await new_video(client, someone, title="hidden", visibility="unlisted")
    await new_video(client, someone, title="private", visibility="private")
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/videos", params=params)).json()
        seen += [v["id"] for v in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    mine = [v for v in seen if v in {m["id"] for m in made}]
    assert mine == [v["id"] for v in reversed(made)]
    titles = {v["title"] for v in (await client.get("/videos", params={"limit": 100})).json()["items"]}
    assert "hidden" not in titles and "private" not in titles


async def test_bad_page_parameters(client: Client) -> None:
    assert (await client.get("/videos", params={"cursor": "garbage!"})).json()["error"] == "invalid_cursor"
    assert (await client.get("/videos", params={"limit": 0})).status_code == 400
    assert (await client.get("/videos", params={"limit": 101})).status_code == 400


async def test_my_videos_include_every_visibility(client: Client, settings: Settings) -> None:
    someone = await person(settings)
    for visibility in ("public", "unlisted", "private"):
        await new_video(client, someone, title=visibility, visibility=visibility)
    page = (await client.get("/me/videos", headers=someone.headers)).json()
    assert [v["title"] for v in page["items"]] == ["private", "unlisted", "public"]


async def test_who_sees_a_private_video(client: Client, settings: Settings, owner: Person) -> None:
    video = await new_video(client, owner, visibility="private")
    path = f"/videos/{video['id']}"
    member, stranger = await person(settings), await person(settings)
    moderator, admin = await person(settings, "moderator"), await person(settings, "admin")
    add = await client.put(f"{path}/members/{member.id}", headers=owner.headers)
    assert add.status_code == 204

    for who, status in [(owner, 200), (member, 200), (moderator, 200), (admin, 200), (stranger, 404)]:
        assert (await client.get(path, headers=who.headers)).status_code == status, who.role
    anonymous = await client.get(path)
    assert anonymous.status_code == 404 and anonymous.json()["error"] == "video_not_found"

    members = (await client.get(f"{path}/members", headers=owner.headers)).json()
    assert [m["user"]["id"] for m in members["items"]] == [str(member.id)] and members["next_cursor"] is None
    assert (await client.delete(f"{path}/members/{member.id}", headers=owner.headers)).status_code == 204
    assert (await client.get(path, headers=member.headers)).status_code == 404


async def test_members_page_in_the_order_they_were_added(
    client: Client, settings: Settings, owner: Person
) -> None:
    video = await new_video(client, owner, visibility="private")
    path = f"/videos/{video['id']}/members"
    added = [await person(settings) for _ in range(3)]
    for member in added:
        assert (await client.put(f"{path}/{member.id}", headers=owner.headers)).status_code == 204
    seen: list[str] = []
    cursor = None
    for _ in range(4):
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(path, headers=owner.headers, params=params)).json()
        seen += [m["user"]["id"] for m in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [str(member.id) for member in added]


async def test_members_are_managed_by_the_owner_only(
    client: Client, settings: Settings, owner: Person
) -> None:
    video = await new_video(client, owner, visibility="private")
    path = f"/videos/{video['id']}/members"
    member = await person(settings)
    await client.put(f"{path}/{member.id}", headers=owner.headers)
    refused = await client.put(f"{path}/{uuid.uuid4()}", headers=member.headers)
    assert refused.status_code == 403 and refused.json()["error"] == "not_owner"
    unknown = await client.put(f"{path}/{uuid.uuid4()}", headers=owner.headers)
    assert unknown.status_code == 404 and unknown.json()["error"] == "user_not_found"
    itself = await client.put(f"{path}/{owner.id}", headers=owner.headers)
    assert itself.status_code == 409


async def test_owner_and_admin_change_and_delete(client: Client, settings: Settings, owner: Person) -> None:
    video = await new_video(client, owner)
    path = f"/videos/{video['id']}"
    other, admin = await person(settings), await person(settings, "admin")

    refused = await client.patch(path, json={"title": "mine now"}, headers=other.headers)
    assert refused.status_code == 403 and refused.json()["error"] == "not_owner"
    changed = await client.patch(path, json={"visibility": "private"}, headers=owner.headers)
    assert changed.status_code == 200
    assert (changed.json()["visibility"], changed.json()["title"]) == ("private", "A video")
    assert changed.json()["updated_at"] > video["updated_at"]
    assert (await client.get(path, headers=other.headers)).status_code == 404
    bad = await client.patch(path, json={"visibility": "secret"}, headers=owner.headers)
    assert bad.status_code == 400

    assert (await client.patch(path, json={"title": "by admin"}, headers=admin.headers)).status_code == 200
    assert (await client.delete(path, headers=other.headers)).status_code == 404  # private: not even seen
    assert (await client.delete(path, headers=admin.headers)).status_code == 204
    assert (await client.get(path, headers=owner.headers)).status_code == 404
    assert (await client.delete(path, headers=owner.headers)).status_code == 404


async def test_an_invalid_token_is_refused_even_where_anonymous_is_fine(client: Client) -> None:
    response = await client.get("/videos/" + str(uuid.uuid4()), headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401 and response.json()["error"] == "invalid_token"


async def test_demo_seed_is_idempotent(settings: Settings, client: Client) -> None:
    db = Database("main", settings.database_url)
    await db.start(max_size=1)
    try:
        assert await demo.seed(db) == len(demo.DEMO_VIDEOS)
        assert await demo.seed(db) == 0
    finally:
        await db.stop()
    for video_id, title, _ in demo.DEMO_VIDEOS:
        response = await client.get(f"/videos/{video_id}")
        assert response.status_code == 200 and response.json()["title"] == title

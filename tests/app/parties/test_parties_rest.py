"""The party endpoints: create, see, join (with invites), leave, list, members, settings, feed."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from core.settings import Settings
from tests.users import Person, person

Client = AsyncTestClient[Any]


async def new_video(client: Client, owner: Person, visibility: str = "public") -> str:
    response = await client.post(
        "/videos", json={"title": "film", "visibility": visibility}, headers=owner.headers
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def new_party(
    client: Client, host: Person, video_id: str | None = None, **fields: Any
) -> dict[str, Any]:
    video_id = video_id or await new_video(client, host)
    response = await client.post("/parties", json={"video_id": video_id, **fields}, headers=host.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_a_new_party(client: Client, settings: Settings) -> None:
    host = await person(settings)
    video_id = await new_video(client, host)
    party = await new_party(client, host, video_id, wait_for_buffering=False)
    assert party["channel"] == f"party:{party['id']}"
    assert party["creator"] == {"id": str(host.id), "handle": host.handle}
    assert party["visibility"] == "public" and party["invite"] is None
    state = party["state"]
    assert (state["host"], state["control"], state["wait_for_buffering"]) == (str(host.id), "host", False)
    assert state["members"] == [{"id": str(host.id), "handle": host.handle}]
    playback = state["playback"]
    assert (playback["video_id"], playback["playing"], playback["position"], playback["version"]) == (
        video_id,
        False,
        0.0,
        1,
    )
    assert party["sync_policy"]["seek_from_ms"] == 250.0
    # Anyone may look at a public party of a public video, signed in or not.
    assert (await client.get(f"/parties/{party['id']}")).json()["id"] == party["id"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "invalid_request"),
        ({"video_id": "not-a-uuid"}, "invalid_request"),
        ({"video_id": str(uuid.uuid4())}, "video_not_found"),
        ({"video_id": None, "visibility": "secret"}, "invalid_request"),
        ({"video_id": None, "control": "anyone"}, "invalid_request"),
        ({"video_id": None, "colour": "red"}, "invalid_request"),
    ],
)
async def test_bad_parties_are_refused(
    client: Client, settings: Settings, body: dict[str, Any], code: str
) -> None:
    host = await person(settings)
    if body.get("video_id", "") is None:
        body["video_id"] = await new_video(client, host)
    response = await client.post("/parties", json=body, headers=host.headers)
    assert response.status_code in (400, 404), response.text
    assert response.json()["error"] == code
    assert (await client.post("/parties", json=body)).status_code == 401


async def test_a_private_party_is_joined_with_its_invite(client: Client, settings: Settings) -> None:
    host, friend, stranger = [await person(settings) for _ in range(3)]
    party = await new_party(client, host, visibility="private")
    path = f"/parties/{party['id']}"
    invite = party["invite"]
    assert invite and len(invite) >= 24
    # To anyone but its members it does not exist.
    for who in (stranger.headers, {}):
        hidden = await client.get(path, headers=who)
        assert hidden.status_code == 404 and hidden.json()["error"] == "party_not_found"
    wrong = await client.post(f"{path}/join", json={"invite": "guess"}, headers=stranger.headers)
    assert wrong.status_code == 403 and wrong.json()["error"] == "invalid_invite"
    missing = await client.post(f"{path}/join", headers=stranger.headers)
    assert missing.status_code == 403 and missing.json()["error"] == "invalid_invite"

    joined = await client.post(f"{path}/join", json={"invite": invite}, headers=friend.headers)
    assert joined.status_code == 200, joined.text
    assert [m["id"] for m in joined.json()["state"]["members"]] == [str(host.id), str(friend.id)]
    assert joined.json()["invite"] == invite  # members may pass it on
    again = await client.post(f"{path}/join", headers=friend.headers)  # a member needs no invite
    assert again.status_code == 200 and len(again.json()["state"]["members"]) == 2

    # The host renews the invite: the old one stops working.
    refused = await client.post(f"{path}/invite", headers=friend.headers)
    assert refused.status_code == 403 and refused.json()["error"] == "not_host"
    renewed = (await client.post(f"{path}/invite", headers=host.headers)).json()["invite"]
    assert renewed != invite
    old = await client.post(f"{path}/join", json={"invite": invite}, headers=stranger.headers)
    assert old.status_code == 403
    new = await client.post(f"{path}/join", json={"invite": renewed}, headers=stranger.headers)
    assert new.status_code == 200


async def test_a_party_of_a_private_video_is_for_those_who_may_see_it(
    client: Client, settings: Settings
) -> None:
    owner, stranger = await person(settings), await person(settings)
    video_id = await new_video(client, owner, visibility="private")
    party = await new_party(client, owner, video_id)
    joined = await client.post(f"/parties/{party['id']}/join", headers=stranger.headers)
    assert joined.status_code == 404 and joined.json()["error"] == "video_not_found"
    seen = await client.get(f"/parties/{party['id']}", headers=stranger.headers)
    assert seen.status_code == 404 and seen.json()["error"] == "party_not_found"
    refused = await client.post("/parties", json={"video_id": video_id}, headers=stranger.headers)
    assert refused.status_code == 404 and refused.json()["error"] == "video_not_found"


async def test_lists(client: Client, settings: Settings) -> None:
    host, guest = await person(settings), await person(settings)
    video_id = await new_video(client, host)
    made = [await new_party(client, host, video_id) for _ in range(3)]
    private = await new_party(client, host, video_id, visibility="private")
    hidden_video = await new_video(client, host, visibility="unlisted")
    unlisted = await new_party(client, host, hidden_video)
    ended = await new_party(client, guest, video_id)
    await client.post(f"/parties/{ended['id']}/leave", headers=guest.headers)

    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"video_id": video_id, "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/parties", params=params)).json()
        seen += [p["id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [p["id"] for p in reversed(made)]
    everything = {p["id"] for p in (await client.get("/parties", params={"limit": 100})).json()["items"]}
    assert not everything & {private["id"], unlisted["id"], ended["id"]}

    await client.post(f"/parties/{made[0]['id']}/join", headers=guest.headers)
    mine = (await client.get("/me/parties", headers=guest.headers)).json()["items"]
    assert [p["id"] for p in mine] == [made[0]["id"]]
    assert (await client.get("/parties", params={"cursor": "nonsense!"})).json()["error"] == "invalid_cursor"


async def test_members_settings_and_leaving(client: Client, settings: Settings) -> None:
    host, guest = await person(settings), await person(settings)
    party = await new_party(client, host)
    path = f"/parties/{party['id']}"
    await client.post(f"{path}/join", headers=guest.headers)
    members = (await client.get(f"{path}/members")).json()
    assert [(m["user"]["handle"], m["host"], m["online"]) for m in members["items"]] == [
        (host.handle, True, False),
        (guest.handle, False, False),
    ]
    first = (await client.get(f"{path}/members", params={"limit": 1})).json()
    rest = (await client.get(f"{path}/members", params={"limit": 1, "cursor": first["next_cursor"]})).json()
    assert [m["user"]["handle"] for m in first["items"] + rest["items"]] == [host.handle, guest.handle]
    assert rest["next_cursor"] is None
    not_host = await client.patch(path, json={"control": "everyone"}, headers=guest.headers)
    assert not_host.status_code == 403 and not_host.json()["error"] == "not_host"
    bad = await client.patch(path, json={"control": "anybody"}, headers=host.headers)
    assert bad.status_code == 400
    changed = await client.patch(path, json={"wait_for_buffering": False}, headers=host.headers)
    assert changed.json()["state"]["wait_for_buffering"] is False
    not_member = await client.put(f"{path}/host", json={"user_id": str(uuid.uuid4())}, headers=host.headers)
    assert not_member.status_code == 403 and not_member.json()["error"] == "not_member"

    assert (await client.post(f"{path}/leave", headers=host.headers)).status_code == 204
    after = (await client.get(path, headers=guest.headers)).json()
    assert after["state"]["host"] == str(guest.id)
    assert (await client.post(f"{path}/leave", headers=host.headers)).status_code == 204  # idempotent
    history = await client.get(f"{path}/messages", headers=host.headers)
    assert history.status_code == 403 and history.json()["error"] == "not_member"
    assert (await client.post(f"{path}/leave", headers=guest.headers)).status_code == 204
    assert (await client.get(path, headers=guest.headers)).status_code == 404


async def test_a_public_party_is_an_activity_a_private_one_is_not(client: Client, settings: Settings) -> None:
    import asyncpg

    host = await person(settings)
    video_id = await new_video(client, host)
    public = await new_party(client, host, video_id)
    await new_party(client, host, video_id, visibility="private")
    connection = await asyncpg.connect(settings.database_url)
    try:
        rows = await connection.fetch(
            "SELECT verb, video_id, object_id FROM activities WHERE actor_id = $1 AND verb = 'started_party'",
            host.id,
        )
    finally:
        await connection.close()
    assert [(r["verb"], str(r["video_id"]), r["object_id"]) for r in rows] == [
        ("started_party", video_id, public["id"])
    ]


async def test_without_redis_parties_live_in_memory(app_client: Any, settings: Settings) -> None:
    host, guest = await person(settings), await person(settings)
    async with app_client(redis_url="") as memory:
        party = await new_party(memory, host)
        joined = await memory.post(f"/parties/{party['id']}/join", headers=guest.headers)
        assert joined.status_code == 200
        assert len(joined.json()["state"]["members"]) == 2


async def test_a_lost_live_state_is_built_again_from_the_records(client: Client, settings: Settings) -> None:
    import redis.asyncio as redis

    host, guest = await person(settings), await person(settings)
    party = await new_party(client, host, control="everyone")
    path = f"/parties/{party['id']}"
    await client.post(f"{path}/join", headers=guest.headers)
    raw = redis.Redis.from_url(settings.redis_url)
    assert await raw.delete(f"{settings.redis_namespace}:party:{{{party['id']}}}") == 1
    await raw.aclose()
    rebuilt = (await client.get(path, headers=guest.headers)).json()["state"]
    assert rebuilt["host"] == str(host.id) and rebuilt["control"] == "everyone"
    assert [m["id"] for m in rebuilt["members"]] == [str(host.id), str(guest.id)]
    assert rebuilt["revision"] > party["state"]["revision"]

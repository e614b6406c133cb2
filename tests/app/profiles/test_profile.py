"""The public profile page and the caller's own profile, against the real databases."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from litestar.testing import AsyncTestClient

from core.settings import Settings
from tests.app.profiles.helpers import member
from tests.app.video_helpers import new_video
from tests.users import login, person, register

Client = AsyncTestClient[Any]


async def _follow(api: Client, who: Any, whom: Any) -> None:
    assert (await api.put(f"/me/following/{whom.id}", headers=who.headers)).status_code == 204


async def test_a_new_users_profile_has_no_fields_yet_and_zero_counts(api: Client, settings: Settings) -> None:
    ada = await member(settings)
    response = await api.get(f"/users/{ada.handle.upper()}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == str(ada.id)
    assert body["handle"] == ada.handle
    assert (body["display_name"], body["bio"], body["avatar"], body["relationship"]) == (None,) * 4
    assert body["counts"] == {"followers": 0, "following": 0, "friends": 0, "videos": 0}


async def test_a_registered_user_sets_and_clears_their_display_name_and_bio(api: Client) -> None:
    user = await register(api)
    headers = {"Authorization": f"Bearer {(await login(api, user['email']))['access_token']}"}
    # "Ame\u0301lie" (e + combining acute) is stored composed, as "Amélie".
    changed = await api.patch(
        "/me/profile",
        json={"display_name": "  Ame\u0301lie   Poulain ", "bio": "line one\r\nline two\n"},
        headers=headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["display_name"] == "Am\u00e9lie Poulain"
    assert changed.json()["bio"] == "line one\nline two"
    page = (await api.get(f"/users/{user['handle']}")).json()
    assert (page["display_name"], page["bio"]) == ("Am\u00e9lie Poulain", "line one\nline two")
    # Only what is sent changes; null removes.
    assert (await api.patch("/me/profile", json={"bio": None}, headers=headers)).json()["bio"] is None
    mine = (await api.get("/me/profile", headers=headers)).json()
    assert (mine["display_name"], mine["bio"], mine["avatar"]) == ("Am\u00e9lie Poulain", None, None)
    assert (await api.patch("/me/profile", json={"display_name": None}, headers=headers)).json()[
        "display_name"
    ] is None


async def test_counts_follow_the_graph_and_only_public_playable_videos(
    api: Client, settings: Settings
) -> None:
    ada, bo, cy = await member(settings), await member(settings), await member(settings)
    await _follow(api, bo, ada)
    await _follow(api, ada, bo)  # friends
    await _follow(api, cy, ada)
    ready, private, unlisted = (
        await new_video(api, ada),
        await new_video(api, ada, visibility="private"),
        await new_video(api, ada, visibility="unlisted"),
    )
    await new_video(api, ada)  # a draft: no media yet
    connection = await asyncpg.connect(settings.database_url)
    try:
        await connection.execute(
            "UPDATE videos SET status = 'ready', media_generation = 'g1' WHERE id = ANY($1)",
            [uuid.UUID(v) for v in (ready, private, unlisted)],
        )
    finally:
        await connection.close()
    counts = (await api.get(f"/users/{ada.handle}")).json()["counts"]
    assert counts == {"followers": 2, "following": 1, "friends": 1, "videos": 1}


async def test_the_relationship_to_a_signed_in_caller(api: Client, settings: Settings) -> None:
    me, them = await member(settings), await member(settings)
    await _follow(api, them, me)

    async def relationship() -> dict[str, bool]:
        response = await api.get(f"/users/{them.handle}", headers=me.headers)
        assert response.status_code == 200, response.text
        return dict(response.json()["relationship"])

    assert await relationship() == {
        "is_self": False,
        "following": False,
        "followed_by": True,
        "friends": False,
        "blocked": False,
        "muted": False,
    }
    await _follow(api, me, them)
    assert (await relationship())["friends"] is True
    assert (await api.put(f"/me/mutes/{them.id}", headers=me.headers)).status_code == 204
    assert (await relationship())["muted"] is True
    assert (await api.put(f"/me/blocks/{them.id}", headers=me.headers)).status_code == 204
    blocked = await relationship()  # one still sees whom one blocked, to unblock them
    assert (blocked["blocked"], blocked["following"], blocked["followed_by"]) == (True, False, False)
    own = (await api.get(f"/users/{me.handle}", headers=me.headers)).json()["relationship"]
    assert own["is_self"] is True


async def test_a_user_who_blocked_the_caller_answers_like_a_missing_one(
    api: Client, settings: Settings
) -> None:
    me, blocker = await member(settings), await member(settings, display_name="Hidden")
    assert (await api.put(f"/me/blocks/{me.id}", headers=blocker.headers)).status_code == 204
    hidden = await api.get(f"/users/{blocker.handle}", headers=me.headers)
    missing = await api.get("/users/nobody_by_this_name", headers=me.headers)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["error"] == missing.json()["error"] == "user_not_found"
    assert (await api.get(f"/users/{blocker.handle}")).status_code == 200  # anonymous: public


async def test_own_profile_needs_a_token_and_a_patch_checks_its_body(api: Client, settings: Settings) -> None:
    me = await member(settings)
    assert (await api.get("/me/profile")).status_code == 401
    assert (await api.patch("/me/profile", json={"display_name": "x"})).status_code == 401
    unknown = await api.patch("/me/profile", json={"nickname": "x"}, headers=me.headers)
    assert unknown.status_code == 400
    wrong_type = await api.patch("/me/profile", json={"display_name": 5}, headers=me.headers)
    assert wrong_type.status_code == 400
    nul = await api.get("/users/a%00b")
    assert nul.status_code == 404


async def test_a_user_without_an_account_row_gets_a_clear_404(api: Client, settings: Settings) -> None:
    """Only a registration cut short leaves a public user without an account: nothing to attach a
    profile to."""
    orphan = await person(settings)
    response = await api.patch("/me/profile", json={"display_name": "Orphan"}, headers=orphan.headers)
    assert response.status_code == 404
    assert response.json()["error"] == "user_not_found"

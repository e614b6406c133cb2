"""Restrictions on staff: only a higher role lifts them, and a restricted moderator has no
moderation powers while the restriction is in force."""

from __future__ import annotations

from typing import Any

import pytest

from core.settings import Settings
from tests.app.video_helpers import Client, new_video, post
from tests.users import Person, person


async def restrict(api: Client, by: Person, target: Person, **fields: Any) -> int:
    response = await api.post(
        "/moderation/restrictions",
        json={"user_id": str(target.id), "kind": "ban", **fields},
        headers=by.headers,
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def test_a_moderator_cannot_lift_a_restriction_on_staff_an_admin_can(
    api: Client, social: Settings
) -> None:
    admin, banned, colleague = (
        await person(social, "admin"),
        *[await person(social, "moderator") for _ in range(2)],
    )
    ban = await restrict(api, admin, banned)

    own = await api.post(f"/moderation/restrictions/{ban}/lift", json={}, headers=banned.headers)
    assert own.status_code == 403
    assert own.json()["error"] == "banned"  # no moderation powers at all while banned

    other = await api.post(f"/moderation/restrictions/{ban}/lift", json={}, headers=colleague.headers)
    assert other.status_code == 403
    assert other.json()["error"] == "target_is_staff"

    lifted = await api.post(f"/moderation/restrictions/{ban}/lift", json={}, headers=admin.headers)
    assert lifted.status_code == 200, lifted.text
    assert (await api.get("/moderation/queue", headers=banned.headers)).status_code == 200


async def test_a_moderator_still_lifts_a_viewers_restriction_an_admin_set(
    api: Client, social: Settings
) -> None:
    admin, moderator, viewer = (
        await person(social, "admin"),
        await person(social, "moderator"),
        await person(social),
    )
    ban = await restrict(api, admin, viewer)
    lifted = await api.post(f"/moderation/restrictions/{ban}/lift", json={}, headers=moderator.headers)
    assert lifted.status_code == 200, lifted.text


@pytest.mark.parametrize(("kind", "code"), [("ban", "banned"), ("timeout", "timed_out")])
async def test_a_restricted_moderator_has_no_moderation_powers(
    api: Client, social: Settings, kind: str, code: str
) -> None:
    admin, moderator = await person(social, "admin"), await person(social, "moderator")
    author, viewer = await person(social), await person(social)
    video = await new_video(api, author)
    comment = await post(api, author, video, "a comment to moderate")
    await restrict(api, admin, moderator, kind=kind, seconds=600 if kind == "timeout" else None)

    attempts = [
        ("GET", "/moderation/queue", None),
        ("POST", f"/moderation/comments/{comment['id']}/remove", {"reason": "x"}),
        ("POST", f"/moderation/comments/{comment['id']}/approve", {"reason": "x"}),
        ("DELETE", f"/comments/{comment['id']}", None),
        ("POST", "/moderation/restrictions", {"user_id": str(viewer.id), "kind": "ban"}),
        ("GET", "/moderation/restrictions", None),
        ("PUT", f"/videos/{video}/slow-mode", {"seconds": 5}),
        ("POST", "/moderation/held-words", {"word": "forbidden"}),
        ("GET", "/moderation/held-words", None),
    ]
    for method, path, body in attempts:
        response = await api.request(method, path, headers=moderator.headers, json=body)
        assert response.status_code == 403, (path, response.text)
        assert response.json()["error"] == code, path
    assert (await api.get(f"/comments/{comment['id']}")).json()["status"] == "visible"

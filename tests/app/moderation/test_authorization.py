"""Who may call what: every comment, rating and moderation endpoint as anonymous, viewer,
moderator and admin, on a public video and someone else's comment."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from core.settings import Settings
from tests.app.video_helpers import Client, new_video, post
from tests.users import Person, person

ROLES = ("anonymous", "viewer", "moderator", "admin")
SIGNED_IN = {"anonymous": 401}
STAFF_ONLY = {"anonymous": 401, "viewer": 403}
ADMIN_ONLY = {"anonymous": 401, "viewer": 403, "moderator": 403}

# (method, path, JSON body, status on success, refusals by role). Paths name what the world has.
ENDPOINTS: list[tuple[str, str, dict[str, Any] | None, int, dict[str, int]]] = [
    ("GET", "/videos/{video}/comments", None, 200, {}),
    ("GET", "/videos/{video}/comments/timeline", None, 200, {}),
    ("GET", "/comments/{comment}", None, 200, {}),
    ("GET", "/comments/{comment}/replies", None, 200, {}),
    ("POST", "/videos/{video}/comments", {"body": "hi"}, 201, SIGNED_IN),
    ("PATCH", "/comments/{comment}", {"body": "edited"}, 200, {**STAFF_ONLY, "moderator": 403, "admin": 403}),
    ("DELETE", "/comments/{comment}", None, 204, STAFF_ONLY),
    ("POST", "/comments/{comment}/reports", {"reason": "spam"}, 204, SIGNED_IN),
    ("GET", "/videos/{video}/rating", None, 200, {}),
    ("PUT", "/videos/{video}/rating", {"stars": 3}, 200, SIGNED_IN),
    ("DELETE", "/videos/{video}/rating", None, 200, SIGNED_IN),
    ("GET", "/videos/{video}/slow-mode", None, 200, {}),
    ("PUT", "/videos/{video}/slow-mode", {"seconds": 5}, 200, STAFF_ONLY),
    ("GET", "/moderation/queue", None, 200, STAFF_ONLY),
    ("POST", "/moderation/comments/{comment}/approve", {"reason": "ok"}, 200, STAFF_ONLY),
    ("POST", "/moderation/comments/{comment}/remove", {"reason": "no"}, 204, STAFF_ONLY),
    ("GET", "/moderation/restrictions", None, 200, STAFF_ONLY),
    (
        "POST",
        "/moderation/restrictions",
        {"user_id": "{target}", "kind": "timeout", "seconds": 60},
        201,
        STAFF_ONLY,
    ),
    ("POST", "/moderation/restrictions/{restriction}/lift", {}, 200, STAFF_ONLY),
    ("GET", "/moderation/held-words", None, 200, STAFF_ONLY),
    ("POST", "/moderation/held-words", {"word": "{word}"}, 201, STAFF_ONLY),
    ("DELETE", "/moderation/held-words/{held_word}", None, 204, STAFF_ONLY),
    ("GET", "/moderation/log", None, 200, ADMIN_ONLY),
]


@pytest.fixture(scope="module")
async def people(social: Settings) -> dict[str, Person]:
    return {role: await person(social, role) for role in ("viewer", "moderator", "admin")}


async def world(api: Client, social: Settings, people: dict[str, Person]) -> dict[str, str]:
    """Fresh things to act on: a video and a reported comment by others, a restriction, a word."""
    owner, author, reporter, target = [await person(social) for _ in range(4)]
    admin = people["admin"]
    video = await new_video(api, owner)
    comment = await post(api, author, video, "someone else's comment")
    await api.post(f"/comments/{comment['id']}/reports", json={"reason": "r"}, headers=reporter.headers)
    restriction = await api.post(
        "/moderation/restrictions", json={"user_id": str(target.id), "kind": "ban"}, headers=admin.headers
    )
    word = f"w{uuid.uuid4().hex[:8]}"
    held_word = await api.post("/moderation/held-words", json={"word": word + "x"}, headers=admin.headers)
    return {
        "video": video,
        "comment": str(comment["id"]),
        "target": str(target.id),
        "restriction": str(restriction.json()["id"]),
        "word": word,
        "held_word": str(held_word.json()["id"]),
    }


def fill(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**names)
    if isinstance(value, dict):
        return {key: fill(item, names) for key, item in value.items()}
    return value


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("method", "path", "body", "success", "refused"),
    ENDPOINTS,
    ids=[f"{method} {path}" for method, path, *_ in ENDPOINTS],
)
async def test_the_authorization_matrix(
    api: Client,
    social: Settings,
    people: dict[str, Person],
    role: str,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    success: int,
    refused: dict[str, int],
) -> None:
    names = await world(api, social, people)
    headers = people[role].headers if role in people else {}
    options: dict[str, Any] = {"headers": headers}
    if body is not None:
        options["json"] = fill(body, names)
    response = await api.request(method, fill(path, names), **options)
    expected = refused.get(role, success)
    assert response.status_code == expected, response.text
    if expected == 401:
        assert response.json()["error"] == "unauthenticated"
    elif expected == 403:
        assert response.json()["error"] in {"forbidden_role", "not_author"}

"""Garbage input gets a 4xx in the error shape, never a 5xx: ids past 64 bits, NUL characters,
deep nesting, bytes that are not UTF-8, bodies that are not JSON, and the like."""

from __future__ import annotations

import base64
from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from core.settings import Settings
from tests.app.video_helpers import new_video, post
from tests.users import Person, person, unique_handle

Client = AsyncTestClient[Any]
BIG = 2**63  # one past the largest bigint
HUGE = 99999999999999999999999


def _cursor(*key: Any) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode(list(key))).decode().rstrip("=")


def _assert_error(response: Any, *statuses: int) -> dict[str, Any]:
    assert response.status_code in statuses, (response.status_code, response.text)
    body = response.json()
    assert isinstance(body["error"], str) and isinstance(body["message"], str), body
    return dict(body)


@pytest.fixture(scope="module")
async def admin(settings: Settings) -> Person:
    return await person(settings, "admin")


@pytest.fixture(scope="module")
async def video(client: Client, admin: Person) -> str:
    return await new_video(client, admin)


@pytest.fixture(scope="module")
async def comment(client: Client, admin: Person, video: str) -> int:
    return int((await post(client, admin, video))["id"])


@pytest.mark.parametrize("big", [BIG, -(2**63) - 1, HUGE])
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/comments/{n}", None),
        ("GET", "/comments/{n}/replies", None),
        ("POST", "/comments/{n}/reports", {"reason": "spam"}),
        ("PATCH", "/comments/{n}", {"body": "changed"}),
        ("DELETE", "/comments/{n}", None),
        ("POST", "/moderation/comments/{n}/approve", {}),
        ("POST", "/moderation/comments/{n}/remove", {}),
        ("POST", "/moderation/restrictions/{n}/lift", {}),
        ("DELETE", "/moderation/held-words/{n}", None),
    ],
)
async def test_ids_past_64_bits_in_paths_are_not_found(
    client: Client, admin: Person, method: str, path: str, body: Any, big: int
) -> None:
    response = await client.request(method, path.format(n=big), json=body, headers=admin.headers)
    _assert_error(response, 400, 404)


@pytest.mark.parametrize("big", [BIG, HUGE])
async def test_a_parent_id_past_64_bits_is_refused(
    client: Client, admin: Person, video: str, big: int
) -> None:
    response = await client.post(
        f"/videos/{video}/comments", json={"body": "hi", "parent_id": big}, headers=admin.headers
    )
    _assert_error(response, 400, 404)


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ("/videos/{video}/comments", [HUGE]),
        ("/videos/{video}/comments", [BIG]),
        ("/comments/{comment}/replies", [HUGE]),
        ("/videos/{video}/comments/timeline", [1.5, HUGE]),
        ("/moderation/queue", [HUGE]),
        ("/moderation/restrictions", ["2026-01-01T00:00:00Z", HUGE]),
        ("/moderation/log", [HUGE]),
        ("/me/feed", [HUGE]),
    ],
)
async def test_cursors_holding_ids_past_64_bits_are_invalid(
    client: Client, admin: Person, video: str, comment: int, path: str, key: list[Any]
) -> None:
    url = path.format(video=video, comment=comment)
    response = await client.get(url, params={"cursor": _cursor(*key)}, headers=admin.headers)
    assert _assert_error(response, 400)["error"] == "invalid_cursor"


def _nul_cases(video: str, comment: int, user: str) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        ("POST", "/videos", {"title": "a\x00b"}),
        ("POST", "/videos", {"title": "ok", "description": "a\x00b"}),
        ("PATCH", f"/videos/{video}", {"description": "\x00"}),
        ("POST", f"/comments/{comment}/reports", {"reason": "spam\x00"}),
        ("POST", "/moderation/held-words", {"word": "bad\x00word"}),
        ("POST", "/moderation/restrictions", {"user_id": user, "kind": "ban", "reason": "\x00"}),
        ("PUT", f"/videos/{video}/slow-mode", {"seconds": 5, "reason": "slow\x00"}),
        ("POST", f"/moderation/comments/{comment}/approve", {"reason": "\x00"}),
        ("POST", f"/moderation/comments/{comment}/remove", {"reason": "\x00"}),
        ("POST", f"/videos/{video}/comments", {"body": "a\x00b"}),
    ]


async def test_a_nul_character_in_any_text_field_is_refused(
    client: Client, settings: Settings, admin: Person, video: str, comment: int
) -> None:
    target = await person(settings)
    for method, path, body in _nul_cases(video, comment, str(target.id)):
        response = await client.request(method, path, json=body, headers=admin.headers)
        assert _assert_error(response, 400)["error"] == "invalid_characters", (path, body)
    assert (await client.get(f"/comments/{comment}")).status_code == 200  # nothing was removed


async def test_a_nul_character_in_a_consent_key_is_refused_at_registration(client: Client) -> None:
    handle = unique_handle()
    body = {
        "email": f"{handle}@example.com",
        "password": "correct horse battery staple",
        "handle": handle,
        "consents": {"ads\x00": True},
    }
    response = await client.post("/accounts", json=body)
    assert _assert_error(response, 400)["error"] == "invalid_characters"


@pytest.mark.parametrize("where", ["/accounts", "/videos"])
async def test_json_nested_1000_deep_is_refused(client: Client, admin: Person, where: str) -> None:
    for nested in ("[" * 1000 + "]" * 1000, '{"title": ' + "[" * 1000 + "]" * 1000 + "}"):
        response = await client.post(
            where, content=nested, headers={**admin.headers, "Content-Type": "application/json"}
        )
        _assert_error(response, 400)


@pytest.mark.parametrize("where", ["/accounts", "/videos"])
async def test_a_body_that_is_not_utf8_is_refused(client: Client, admin: Person, where: str) -> None:
    for raw in (b'{"title": "caf\xe9"}', b'{"title": "\xff\xfe"}', b"\xc3\x28"):
        response = await client.post(
            where, content=raw, headers={**admin.headers, "Content-Type": "application/json"}
        )
        _assert_error(response, 400)


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", "multipart/form-data"],
)
async def test_json_endpoints_refuse_other_content_types(
    client: Client, admin: Person, content_type: str
) -> None:
    """A browser sends these cross-site without a CORS preflight."""
    raw = msgspec.json.encode({"title": "A video"})
    made = await client.post("/videos", content=raw, headers={**admin.headers, "Content-Type": content_type})
    assert _assert_error(made, 415)["error"] == "unsupported_media_type"
    handle = unique_handle()
    account = msgspec.json.encode({"email": f"{handle}@example.com", "password": "x" * 20, "handle": handle})
    registered = await client.post("/accounts", content=account, headers={"Content-Type": content_type})
    assert _assert_error(registered, 415)["error"] == "unsupported_media_type"


async def test_json_endpoints_take_json_with_a_charset_or_a_suffix(client: Client, admin: Person) -> None:
    raw = msgspec.json.encode({"title": "A video"})
    for content_type in ("application/json; charset=utf-8", "application/merge-patch+json"):
        response = await client.post(
            "/videos", content=raw, headers={**admin.headers, "Content-Type": content_type}
        )
        assert response.status_code == 201, (content_type, response.text)


async def test_a_handle_with_a_nul_character_is_not_found(client: Client) -> None:
    response = await client.get("/users/a%00b")
    assert _assert_error(response, 404)["error"] == "user_not_found"


@pytest.mark.parametrize(
    "path",
    [
        "/videos?limit=99999999999999999999999",
        "/videos?limit=-1",
        "/videos?cursor=%00",
        "/videos/{video}/comments/timeline?start=nan",
        "/videos/{video}/comments/timeline?start=1e999",
        "/videos/{video}/comments/timeline?start=0&end=-inf",
        "/moderation/restrictions?user_id=%00",
    ],
)
async def test_garbage_in_paths_and_queries_is_a_client_error(
    client: Client, admin: Person, video: str, path: str
) -> None:
    response = await client.get(path.format(video=video), headers=admin.headers)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        _assert_error(response, response.status_code)


@pytest.mark.parametrize(
    "form",
    [
        {"grant_type": "password", "username": "a\x00@example.com", "password": "whatever it is"},
        {"grant_type": "password", "username": "a@example.com", "password": "pass\x00word"},
        {"grant_type": "refresh_token", "refresh_token": "abc\x00def"},
        {"grant_type": "pass\x00word"},
    ],
)
async def test_nul_characters_in_the_token_form_are_a_client_error(
    client: Client, form: dict[str, str]
) -> None:
    response = await client.post("/auth/token", data=form)
    assert 400 <= response.status_code < 500, response.text


async def test_a_token_form_that_is_not_utf8_is_a_client_error(client: Client) -> None:
    response = await client.post(
        "/auth/token",
        content=b"grant_type=password&username=\xff%FF&password=\xfe",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert 400 <= response.status_code < 500, response.text


@pytest.mark.parametrize("authorization", ["Bearer \x7f", "Bearer a.b.c", "Basic Zm9vOmJhcg==", "Bearer"])
async def test_garbage_credentials_are_unauthorized(client: Client, authorization: str) -> None:
    response = await client.get("/me", headers={"Authorization": authorization})
    _assert_error(response, 401)

"""An access token names its user; the role and the account's existence are today's: a role
change applies to the next request, and an erased user's token gets 401. (Across instances:
tests/app/auth/test_current_role_live.py, on real processes.)"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from core.settings import Settings
from server.factory import create_app
from tests.app.video_helpers import Client, new_video, post, roomy
from tests.users import Person, bearer, login, person, register


@pytest.fixture(scope="module")
def social(settings: Settings) -> Settings:
    return roomy(settings)


@pytest.fixture(scope="module")
async def api(social: Settings) -> AsyncIterator[Client]:
    async with AsyncTestClient(app=create_app(social)) as client:
        yield client


def forgotten(instance: Client, user_id: uuid.UUID) -> asyncio.Event:
    """Set once ``instance`` has heard that this user's role or account changed (the app runs
    on the test client's own thread and loop)."""
    heard = asyncio.Event()
    loop = asyncio.get_running_loop()

    def changed(changed_id: uuid.UUID) -> None:
        if changed_id == user_id:
            loop.call_soon_threadsafe(heard.set)

    instance.app.state.principals.watch(changed)
    return heard


async def set_role(api: Client, admin: Person, user_id: uuid.UUID, role: str) -> None:
    response = await api.put(f"/users/{user_id}/role", json={"role": role}, headers=admin.headers)
    assert response.status_code == 200, response.text


async def test_a_demoted_moderator_loses_the_role_on_the_next_request(api: Client, social: Settings) -> None:
    admin, moderator = await person(social, "admin"), await person(social, "moderator")
    assert (await api.get("/moderation/queue", headers=moderator.headers)).status_code == 200

    await set_role(api, admin, moderator.id, "viewer")
    refused = await api.get("/moderation/queue", headers=moderator.headers)
    assert refused.status_code == 403
    assert refused.json()["error"] == "forbidden_role"


async def test_a_promotion_applies_at_once_and_both_go_to_the_audit_log(
    api: Client, social: Settings
) -> None:
    a = api
    admin, user = await person(social, "admin"), await person(social)
    assert (await a.get("/moderation/queue", headers=user.headers)).status_code == 403

    await set_role(a, admin, user.id, "moderator")
    assert (await a.get("/moderation/queue", headers=user.headers)).status_code == 200
    await set_role(a, admin, user.id, "viewer")

    log = await a.get("/moderation/log", params={"user_id": str(user.id)}, headers=admin.headers)
    assert log.status_code == 200, log.text
    entries = [
        (e["action"], e["actor"]["id"], e["target_user_id"], e["details"]) for e in log.json()["items"]
    ]
    assert entries == [
        ("role.revoke", str(admin.id), str(user.id), {"old_role": "moderator", "new_role": "viewer"}),
        ("role.grant", str(admin.id), str(user.id), {"old_role": "viewer", "new_role": "moderator"}),
    ]


async def test_an_erased_users_token_gets_401_everywhere_never_a_500(api: Client, social: Settings) -> None:
    a = api
    other = await person(social)
    video = await new_video(a, other)
    comment = await post(a, other, video, "a comment to reply to")
    user = await register(a)
    token = (await login(a, user["email"]))["access_token"]
    headers = bearer(token)
    assert (await a.get("/me", headers=headers)).status_code == 200
    heard = forgotten(a, uuid.UUID(user["id"]))

    # Erasure by hand, as docs/privacy.md describes it: the identity row, then the public one.
    for url, sql in (
        (social.identity_database_url, "DELETE FROM accounts WHERE id = $1"),
        (social.database_url, "DELETE FROM users WHERE id = $1"),
    ):
        connection = await asyncpg.connect(url)
        try:
            await connection.execute(sql, uuid.UUID(user["id"]))
        finally:
            await connection.close()
    await asyncio.wait_for(heard.wait(), 10)

    calls: list[tuple[str, str, dict[str, Any] | None]] = [
        ("POST", f"/videos/{video}/comments", {"body": "from beyond"}),
        ("POST", f"/videos/{video}/comments", {"body": "a reply", "parent_id": comment["id"]}),
        ("POST", f"/comments/{comment['id']}/reports", {"reason": "spam"}),
        ("PUT", f"/videos/{video}/rating", {"stars": 4}),
        ("PUT", f"/me/following/{other.id}", None),
        ("PUT", f"/me/blocks/{other.id}", None),
        ("POST", "/videos", {"title": "posthumous"}),
        ("POST", f"/videos/{video}/watches", None),
        ("POST", "/parties", {"video_id": video}),
        ("GET", "/me", None),
        ("GET", f"/videos/{video}", None),
        ("GET", "/me/feed", None),
    ]
    for method, path, body in calls:
        response = await a.request(method, path, headers=headers, json=body)
        assert response.status_code == 401, (method, path, response.status_code, response.text)
        assert response.json()["error"] == "account_gone", path
        assert set(response.json()) >= {"error", "message"}


async def test_a_role_changed_by_hand_in_the_database_applies_too(api: Client, social: Settings) -> None:
    """The cache hears of changes from the database itself, whoever makes them (here, SQL)."""
    moderator = await person(social, "moderator")
    assert (await api.get("/moderation/queue", headers=moderator.headers)).status_code == 200
    heard = forgotten(api, moderator.id)
    connection = await asyncpg.connect(social.database_url)
    try:
        await connection.execute("UPDATE users SET role = 'viewer' WHERE id = $1", moderator.id)
    finally:
        await connection.close()
    await asyncio.wait_for(heard.wait(), 10)
    assert (await api.get("/moderation/queue", headers=moderator.headers)).status_code == 403

"""Follows, friends, blocks and mutes through the REST API, and the errors of bad requests."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from core.settings import Settings
from tests.users import Person, person

Client = AsyncTestClient[Any]

# Relations are read from PostgreSQL only: one graph backend is enough for the app these tests use.
pytestmark = pytest.mark.parametrize("graph_settings", ["falkordb"], indirect=True)


async def follow(api: Client, who: Person, whom: Person | uuid.UUID) -> Any:
    target = whom.id if isinstance(whom, Person) else whom
    return await api.put(f"/me/following/{target}", headers=who.headers)


async def handles(api: Client, path: str, viewer: Person | None = None, **params: Any) -> list[str]:
    response = await api.get(path, headers=viewer.headers if viewer else None, params=params)
    assert response.status_code == 200, response.text
    return [item["user"]["handle"] for item in response.json()["items"]]


async def test_follow_lists_and_friends(api: Client, settings: Settings) -> None:
    ada, bob, cy = await person(settings), await person(settings), await person(settings)
    for response in (await follow(api, ada, bob), await follow(api, ada, cy), await follow(api, bob, ada)):
        assert response.status_code == 204, response.text
    assert (await follow(api, ada, bob)).status_code == 204  # again: no change

    assert await handles(api, f"/users/{ada.id}/following") == [cy.handle, bob.handle]  # newest first
    assert await handles(api, f"/users/{bob.id}/followers") == [ada.handle]
    assert await handles(api, f"/users/{ada.id}/friends") == [bob.handle]
    relation = (await api.get(f"/me/relationships/{bob.id}", headers=ada.headers)).json()
    assert relation == {
        "user": {"id": str(bob.id), "handle": bob.handle},
        "following": True,
        "followed_by": True,
        "friends": True,
        "blocking": False,
        "muting": False,
    }

    assert (await api.delete(f"/me/following/{bob.id}", headers=ada.headers)).status_code == 204
    assert (await api.delete(f"/me/following/{bob.id}", headers=ada.headers)).status_code == 204
    assert await handles(api, f"/users/{ada.id}/friends") == []
    assert await handles(api, f"/users/{ada.id}/following") == [cy.handle]


async def test_followers_page_by_cursor(api: Client, settings: Settings) -> None:
    star = await person(settings)
    fans = [await person(settings) for _ in range(5)]
    for fan in fans:
        await follow(api, fan, star)
    seen: list[str] = []
    cursor = None
    for _ in range(3):
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await api.get(f"/users/{star.id}/followers", params=params)).json()
        seen += [item["user"]["handle"] for item in page["items"]]
        cursor = page["next_cursor"]
    assert seen == [fan.handle for fan in reversed(fans)] and cursor is None
    bad = await api.get(f"/users/{star.id}/followers", params={"cursor": "not-a-cursor"})
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_cursor"


async def test_bad_follows_get_clear_errors(api: Client, settings: Settings) -> None:
    ada, bob = await person(settings), await person(settings)
    cases = [
        (await follow(api, ada, ada), 400, "cannot_follow_self"),
        (await follow(api, ada, uuid.uuid4()), 404, "user_not_found"),
        (await api.put(f"/me/following/{bob.id}"), 401, "unauthenticated"),
        (await api.put(f"/me/blocks/{ada.id}", headers=ada.headers), 400, "cannot_block_self"),
        (await api.put(f"/me/mutes/{ada.id}", headers=ada.headers), 400, "cannot_mute_self"),
        (await api.put(f"/me/blocks/{uuid.uuid4()}", headers=ada.headers), 404, "user_not_found"),
        (await api.get(f"/users/{uuid.uuid4()}/followers"), 404, "user_not_found"),
    ]
    for response, status, code in cases:
        assert response.status_code == status, response.text
        body = response.json()
        assert body["error"] == code and body["message"]

    await api.put(f"/me/blocks/{ada.id}", headers=bob.headers)
    refused = await follow(api, ada, bob)
    assert refused.status_code == 403 and refused.json()["error"] == "blocked_by_user"
    own_block = await follow(api, bob, ada)
    assert own_block.status_code == 409 and own_block.json()["error"] == "user_blocked"
    assert await handles(api, f"/users/{bob.id}/followers", bob) == []  # nothing was written


async def test_a_block_ends_follows_and_hides_each_from_the_other(api: Client, settings: Settings) -> None:
    ada, bob, cy = await person(settings), await person(settings), await person(settings)
    await follow(api, ada, bob)
    await follow(api, bob, ada)
    await follow(api, ada, cy)
    await follow(api, bob, cy)
    await follow(api, cy, ada)
    await follow(api, cy, bob)

    assert (await api.put(f"/me/blocks/{bob.id}", headers=ada.headers)).status_code == 204
    assert (await api.put(f"/me/blocks/{bob.id}", headers=ada.headers)).status_code == 204  # again
    # Both follows are gone, for everyone.
    assert await handles(api, f"/users/{ada.id}/followers") == [cy.handle]
    assert await handles(api, f"/users/{ada.id}/following") == [cy.handle]
    # A third person's lists hide each from the other, and only from them.
    assert await handles(api, f"/users/{cy.id}/followers", ada) == [ada.handle]
    assert await handles(api, f"/users/{cy.id}/following", bob) == [bob.handle]
    assert set(await handles(api, f"/users/{cy.id}/followers")) == {ada.handle, bob.handle}
    assert set(await handles(api, f"/users/{cy.id}/friends", cy)) == {ada.handle, bob.handle}
    # The other's own lists are as if they did not exist.
    for path in (f"/users/{bob.id}/followers", f"/users/{bob.id}/following", f"/users/{bob.id}/friends"):
        hidden = await api.get(path, headers=ada.headers)
        assert hidden.status_code == 404 and hidden.json()["error"] == "user_not_found"
    hidden = await api.get(f"/users/{ada.id}/followers", headers=bob.headers)
    assert hidden.status_code == 404
    assert (await api.get(f"/me/relationships/{ada.id}", headers=bob.headers)).status_code == 404
    assert await handles(api, "/me/blocks", ada) == [bob.handle]

    assert (await api.delete(f"/me/blocks/{bob.id}", headers=ada.headers)).status_code == 204
    assert await handles(api, "/me/blocks", ada) == []
    assert await handles(api, f"/users/{ada.id}/followers") == [cy.handle]  # not restored
    assert (await follow(api, bob, ada)).status_code == 204


async def test_mutes_are_listed_and_reversible(api: Client, settings: Settings) -> None:
    ada, bob = await person(settings), await person(settings)
    await follow(api, ada, bob)
    assert (await api.put(f"/me/mutes/{bob.id}", headers=ada.headers)).status_code == 204
    assert await handles(api, "/me/mutes", ada) == [bob.handle]
    assert await handles(api, f"/users/{ada.id}/following", ada) == [bob.handle]  # still followed
    relation = (await api.get(f"/me/relationships/{bob.id}", headers=ada.headers)).json()
    assert relation["muting"] and relation["following"]
    assert (await api.delete(f"/me/mutes/{bob.id}", headers=ada.headers)).status_code == 204
    assert await handles(api, "/me/mutes", ada) == []

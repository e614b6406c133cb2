"""Withdrawing consent to personalization, as people-you-may-know and recommendations apply it:
the user's own lists stop using their activity, and their activity stops feeding anyone else's."""

from __future__ import annotations

import uuid
from typing import Any

from core.settings import Settings
from tests.app.social.test_discovery import Client, Sync, follow, rate, recommended, suggested, video
from tests.users import Person, login, person, register


async def member(api: Client) -> Person:
    """A registered user (consent changes are recorded in the identity database), signed in."""
    user = await register(api)
    tokens = await login(api, user["email"])
    return Person(
        id=uuid.UUID(user["id"]), handle=user["handle"], role="viewer", token=tokens["access_token"]
    )


async def personalize(api: Client, who: Person, granted: bool) -> dict[str, Any]:
    response = await api.put(
        "/me/consents", json={"consents": {"personalization": granted}}, headers=who.headers
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def reasons(recommendations: list[dict[str, Any]]) -> dict[str, str]:
    return {r["video"]["id"]: r["reason"] for r in recommendations}


async def test_withdrawing_stops_the_users_own_suggestions_and_social_picks(
    api: Client, settings: Settings, sync: Sync
) -> None:
    me = await member(api)
    friend, known, owner = [await person(settings) for _ in range(3)]
    clip = await video(api, owner)
    await follow(api, me, friend)
    await follow(api, friend, known)
    await rate(settings, friend, clip, 5)
    await sync()
    assert [s["user"]["id"] for s in await suggested(api, me)] == [str(known.id)]
    assert reasons(await recommended(api, me))[clip] == "rated_by_following"

    await personalize(api, me, False)
    assert await suggested(api, me) == []
    # Only what is popular with everyone, whatever the people followed did.
    assert set(reasons(await recommended(api, me)).values()) <= {"popular"}
    assert reasons(await recommended(api, me))[clip] == "popular"

    await personalize(api, me, True)
    assert [s["user"]["id"] for s in await suggested(api, me)] == [str(known.id)]
    assert reasons(await recommended(api, me))[clip] == "rated_by_following"


async def test_a_withdrawn_users_activity_stops_feeding_others_lists(
    api: Client, settings: Settings, sync: Sync
) -> None:
    reader = await person(settings)
    shy, open_ = await member(api), await member(api)
    known_by_shy, known_by_open, owner = [await person(settings) for _ in range(3)]
    shy_pick, open_pick = await video(api, owner), await video(api, owner)
    await follow(api, reader, shy, open_)
    await follow(api, shy, known_by_shy)
    await follow(api, open_, known_by_open)
    await rate(settings, shy, shy_pick, 5)
    await rate(settings, open_, open_pick, 5)
    await sync()
    assert {s["user"]["id"] for s in await suggested(api, reader)} == {
        str(known_by_shy.id),
        str(known_by_open.id),
    }
    picks = reasons(await recommended(api, reader))
    assert picks[shy_pick] == picks[open_pick] == "rated_by_following"

    await personalize(api, shy, False)  # applies at once: no graph sync, no cache to wait for
    assert [s["user"]["id"] for s in await suggested(api, reader)] == [str(known_by_open.id)]
    picks = reasons(await recommended(api, reader))
    assert picks[open_pick] == "rated_by_following"
    assert picks.get(shy_pick) != "rated_by_following"
    # Nor does it count towards what is popular, once the graph hears of the withdrawal.
    await sync()
    picks = reasons(await recommended(api, reader))
    assert shy_pick not in picks and picks[open_pick] == "rated_by_following"

    await personalize(api, shy, True)
    assert {s["user"]["id"] for s in await suggested(api, reader)} == {
        str(known_by_shy.id),
        str(known_by_open.id),
    }
    assert reasons(await recommended(api, reader))[shy_pick] == "rated_by_following"

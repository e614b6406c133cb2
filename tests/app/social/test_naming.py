"""Explanations name who is behind a pick: up to three by display name (else handle), friends
first, then "and N others"; never someone muted, blocked or blocking, even before the graph
hears of it, nor someone who withdrew personalization."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from litestar.testing import AsyncTestClient

from app.profiles.schemas import PersonName
from app.social.naming import Named
from core.settings import Settings
from tests.app.profiles.helpers import member
from tests.app.social.test_discovery import follow, rate, recommended, suggested, video
from tests.users import Person

Client = AsyncTestClient[Any]
Sync = Callable[[], Awaitable[int]]


def _name(display_name: str | None, handle: str = "h") -> PersonName:
    return PersonName(id=uuid.uuid4(), handle=handle, display_name=display_name)


def test_a_sentence_names_up_to_three_then_counts_the_others() -> None:
    ana, bo, cy = _name("Ana"), _name("Bo"), _name(None, handle="cy_handle")
    assert Named(people=[ana], others=0).sentence() == "Ana"
    assert Named(people=[ana, bo], others=0).sentence() == "Ana and Bo"
    assert Named(people=[ana, bo, cy], others=0).sentence() == "Ana, Bo and cy_handle"
    assert Named(people=[ana], others=2).sentence() == "Ana and 2 others"
    assert Named(people=[ana, bo, cy], others=1).sentence() == "Ana, Bo, cy_handle and 1 other"


async def _pick(api: Client, who: Person, video_id: str) -> dict[str, Any]:
    return next(p for p in await recommended(api, who, limit=50) if p["video"]["id"] == video_id)


async def test_recommendations_name_friends_by_display_name_then_count_the_others(
    api: Client, graph_settings: Settings, sync: Sync
) -> None:
    me = await member(graph_settings)
    ana, bo, cy, dee = [await member(graph_settings, display_name=n) for n in ("Ana", "Bo", "Cy", "Dee")]
    plain = await member(graph_settings)  # no display name: named by handle
    owner = await member(graph_settings)
    friends = [ana, bo, cy, dee, plain]
    await follow(api, me, *friends)
    for friend in friends:
        await follow(api, friend, me)
    liked = await video(api, owner)
    for friend in (plain, dee, cy, bo, ana):  # Ana rates last: the most recent is named first
        await rate(graph_settings, friend, liked, 5)
    await sync()
    pick = await _pick(api, me, liked)
    assert pick["reason"] == "trending_among_friends"  # two or more friends this week
    assert (
        pick["explanation"]
        == "trending among your friends: Ana, Bo, Cy and 2 others watched or rated it this week"
    )
    assert [p["display_name"] for p in pick["people"]] == ["Ana", "Bo", "Cy"]
    assert [p["id"] for p in pick["people"]] == [str(ana.id), str(bo.id), str(cy.id)]
    assert pick["people"][0]["handle"] == ana.handle
    assert pick["others"] == 2

    # Muted and blocked people are neither named nor counted, before the graph hears of it.
    assert (await api.put(f"/me/mutes/{ana.id}", headers=me.headers)).status_code == 204
    assert (await api.put(f"/me/blocks/{me.id}", headers=bo.headers)).status_code == 204
    pick = await _pick(api, me, liked)
    assert pick["explanation"] == (
        f"trending among your friends: Cy, Dee and {plain.handle} watched or rated it this week"
    )
    assert pick["others"] == 0

    # Someone who withdrew personalization is not named either: their activity feeds no picks.
    withdrawn = await api.put(
        "/me/consents", json={"consents": {"personalization": False}}, headers=cy.headers
    )
    assert withdrawn.status_code == 200, withdrawn.text
    pick = await _pick(api, me, liked)
    assert pick["explanation"] == (
        f"trending among your friends: Dee and {plain.handle} watched or rated it this week"
    )


async def test_people_you_follow_who_are_not_friends_are_named_too(
    api: Client, graph_settings: Settings, sync: Sync
) -> None:
    me, owner = await member(graph_settings), await member(graph_settings)
    ana = await member(graph_settings, display_name="Ana Lima")
    await follow(api, me, ana)
    watched = await video(api, owner)
    assert (await api.post(f"/videos/{watched}/watches", headers=ana.headers)).status_code == 201
    await sync()
    pick = await _pick(api, me, watched)
    assert (pick["reason"], pick["explanation"]) == ("watched_by_following", "Ana Lima watched this")


async def test_suggestions_name_the_people_you_follow_who_follow_them(
    api: Client, graph_settings: Settings, sync: Sync
) -> None:
    me, target = await member(graph_settings), await member(graph_settings)
    via = [await member(graph_settings, display_name=n) for n in ("Ana", "Bo", "Cy", "Dee")]
    await follow(api, me, *via)
    await follow(api, via[3], me)  # Dee is a friend: named first
    for person in via:
        await follow(api, person, target)
    await sync()
    got = next(s for s in await suggested(api, me) if s["user"]["id"] == str(target.id))
    assert got["mutual_follows"] == 4
    assert got["explanation"] == "followed by Dee, Cy, Bo and 1 other you follow"
    assert got["others"] == 1

"""People you may know, video recommendations and watches through the REST API."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from litestar.testing import AsyncTestClient

from app.social.recommendations import explain
from app.social.suggestions import PeopleSuggestions
from core.db import Database
from core.settings import Settings
from core.tokens import Principal
from graph.events import RatingChanged, enqueue_change
from server import backends
from server.factory import create_app
from tests.app.video_helpers import make_playable
from tests.users import Person, person

Client = AsyncTestClient[Any]
Sync = Callable[[], Awaitable[int]]


async def follow(api: Client, who: Person, *whom: Person) -> None:
    for target in whom:
        response = await api.put(f"/me/following/{target.id}", headers=who.headers)
        assert response.status_code == 204, response.text


async def video(api: Client, owner: Person, visibility: str = "public", ready: bool = True) -> str:
    """A video of ``owner``'s, transcoded (playable) unless ``ready`` is false (a draft)."""
    response = await api.post(
        "/videos", json={"title": "clip", "visibility": visibility}, headers=owner.headers
    )
    assert response.status_code == 201, response.text
    if ready:
        await make_playable(api.app.state.database_url, response.json()["id"])
    return str(response.json()["id"])


async def rate(settings: Settings, who: Person, video_id: str, stars: int) -> None:
    """What the ratings feature does: the row and its graph change in one transaction."""
    db = Database("main", settings.database_url)
    await db.start(max_size=1)
    try:
        async with db.engine.transaction():
            await db.fetch(
                "INSERT INTO ratings (video_id, user_id, stars) VALUES ({}, {}, {})",
                uuid.UUID(video_id),
                who.id,
                stars,
            )
            await enqueue_change(db, RatingChanged(video_id, str(who.id)))
    finally:
        await db.stop()


async def suggested(api: Client, who: Person) -> list[dict[str, Any]]:
    response = await api.get("/me/suggestions/people", headers=who.headers)
    assert response.status_code == 200, response.text
    assert response.json()["next_cursor"] is None  # one ranked page
    return list(response.json()["items"])


async def recommended(api: Client, who: Person, limit: int = 10) -> list[dict[str, Any]]:
    response = await api.get("/me/recommendations/videos", headers=who.headers, params={"limit": limit})
    assert response.status_code == 200, response.text
    assert response.json()["next_cursor"] is None  # one ranked page
    return list(response.json()["items"])


async def test_people_you_may_know_and_dismissing_them(api: Client, settings: Settings, sync: Sync) -> None:
    me, friend, other, known, less_known, muted = [await person(settings) for _ in range(6)]
    await follow(api, me, friend, other)
    await follow(api, friend, known, less_known, muted)
    await follow(api, other, known)
    await follow(api, muted, me)
    await api.put(f"/me/mutes/{muted.id}", headers=me.headers)
    await sync()
    got = await suggested(api, me)
    assert [(s["user"]["handle"], s["mutual_follows"]) for s in got] == [
        (known.handle, 2),
        (less_known.handle, 1),
    ]
    # Named, the most recent follow first (no profiles here: by handle).
    assert got[0]["explanation"] == f"followed by {other.handle} and {friend.handle}, whom you follow"
    assert got[1]["explanation"] == f"followed by {friend.handle}, whom you follow"
    assert [p["id"] for p in got[0]["people"]] == [str(other.id), str(friend.id)]
    assert got[0]["others"] == 0

    assert (await api.delete(f"/me/suggestions/people/{known.id}", headers=me.headers)).status_code == 204
    # Gone at once, before the graph hears of it: answers are checked against PostgreSQL.
    assert [s["user"]["handle"] for s in await suggested(api, me)] == [less_known.handle]
    await api.put(f"/me/following/{less_known.id}", headers=me.headers)
    assert await suggested(api, me) == []
    await sync()
    assert await suggested(api, me) == []

    for response, status, code in [
        (await api.delete(f"/me/suggestions/people/{me.id}", headers=me.headers), 400, "cannot_dismiss_self"),
        (
            await api.delete(f"/me/suggestions/people/{uuid.uuid4()}", headers=me.headers),
            404,
            "user_not_found",
        ),
        (
            await api.get("/me/suggestions/people", headers=me.headers, params={"limit": 0}),
            400,
            "invalid_request",
        ),
        (await api.get("/me/suggestions/people"), 401, "unauthenticated"),
    ]:
        assert response.status_code == status and response.json()["error"] == code, response.text


async def test_a_block_takes_effect_in_suggestions_before_the_graph_hears_of_it(
    api: Client, settings: Settings, sync: Sync
) -> None:
    me, friend, stranger = [await person(settings) for _ in range(3)]
    await follow(api, me, friend)
    await follow(api, friend, stranger)
    await sync()
    assert [s["user"]["id"] for s in await suggested(api, me)] == [str(stranger.id)]
    await api.put(f"/me/blocks/{me.id}", headers=stranger.headers)  # they block me; not synced
    assert await suggested(api, me) == []


async def test_suggestions_are_cached_briefly(
    settings: Settings, graph_settings: Settings, sync: Sync
) -> None:
    now = [0.0]
    db = Database("main", settings.database_url)
    await db.start(max_size=2)
    graph = backends.graph(graph_settings)
    assert graph is not None
    try:
        suggestions = PeopleSuggestions(db, graph, cache_seconds=30, clock=lambda: now[0])
        me, friend, first, second = [await person(settings) for _ in range(4)]
        caller = Principal(id=me.id, handle=me.handle, role="viewer")
        async with AsyncTestClient(app=create_app(graph_settings)) as api:
            await follow(api, me, friend)
            await follow(api, friend, first)
            await sync()
            assert [s.user.id for s in await suggestions.suggest(caller, 10)] == [first.id]
            await follow(api, friend, second)
            await sync()
            assert [s.user.id for s in await suggestions.suggest(caller, 10)] == [first.id]  # cached
            now[0] = 31
            assert {s.user.id for s in await suggestions.suggest(caller, 10)} == {first.id, second.id}
    finally:
        await graph.close()
        await db.stop()


async def test_an_empty_ranking_is_not_kept(settings: Settings, graph_settings: Settings, sync: Sync) -> None:
    """A new user who asks before the graph has heard of their friend's follows sees the
    friend-of-friend once it has, not 60 s later: an empty ranking cost the graph nothing and
    is not cached (the e2e suggestions test met it as a race with the outbox)."""
    db = Database("main", settings.database_url)
    await db.start(max_size=2)
    graph = backends.graph(graph_settings)
    assert graph is not None
    try:
        suggestions = PeopleSuggestions(db, graph, cache_seconds=60, clock=lambda: 0.0)
        me, friend, theirs = [await person(settings) for _ in range(3)]
        caller = Principal(id=me.id, handle=me.handle, role="viewer")
        async with AsyncTestClient(app=create_app(graph_settings)) as api:
            await follow(api, me, friend)
            await sync()
            assert await suggestions.suggest(caller, 10) == []
            await follow(api, friend, theirs)
            await sync()
            assert [s.user.id for s in await suggestions.suggest(caller, 10)] == [theirs.id]
    finally:
        await graph.close()
        await db.stop()


async def test_recommendations_explain_themselves_and_respect_private_videos(
    api: Client, settings: Settings, sync: Sync
) -> None:
    me, outsider, friend, followed, owner, hostile = [await person(settings) for _ in range(6)]
    await follow(api, me, friend, followed)
    await follow(api, friend, me)
    await follow(api, outsider, friend, followed)
    liked, secret = await video(api, owner), await video(api, owner, "private")
    theirs = await video(api, hostile)
    await api.put(f"/videos/{secret}/members/{me.id}", headers=owner.headers)
    await api.put(f"/videos/{secret}/members/{friend.id}", headers=owner.headers)
    await rate(settings, friend, liked, 5)
    await rate(settings, followed, liked, 4)
    await rate(settings, friend, secret, 5)
    await rate(settings, friend, theirs, 5)
    await sync()
    assert theirs in [p["video"]["id"] for p in await recommended(api, me)]
    await api.put(f"/me/blocks/{me.id}", headers=hostile.headers)  # not synced: PostgreSQL decides
    assert theirs not in [p["video"]["id"] for p in await recommended(api, me)]

    picks = await recommended(api, me)
    assert [(p["video"]["id"], p["reason"], p["explanation"]) for p in picks[:2]] == [
        (liked, "rated_by_friends", f"{friend.handle} rated this 4+"),
        (secret, "rated_by_friends", f"{friend.handle} rated this 4+"),
    ]
    outsiders = await recommended(api, outsider)
    assert [p["video"]["id"] for p in outsiders if p["video"]["id"] in {liked, secret}] == [liked]
    assert outsiders[0]["explanation"] == f"{followed.handle} and {friend.handle} rated this 4+"

    # Watched: gone at once, before the graph hears of it.
    watched = await api.post(f"/videos/{liked}/watches", headers=me.headers)
    assert watched.status_code == 201
    assert liked not in [p["video"]["id"] for p in await recommended(api, me)]


async def test_only_playable_videos_are_recommended(api: Client, settings: Settings, sync: Sync) -> None:
    """A draft (no media yet) or a failed upload is never offered, whatever friends thought of it;
    once it plays, it is."""
    me, friend, other, owner = [await person(settings) for _ in range(4)]
    await follow(api, me, friend, other)
    await follow(api, friend, me)
    draft, failed = await video(api, owner, ready=False), await video(api, owner, ready=False)
    for clip in (draft, failed):
        await rate(settings, friend, clip, 5)
        await rate(settings, other, clip, 5)
    await sync()
    await _set_status(settings, failed, "failed")

    offered = [p["video"]["id"] for p in await recommended(api, me, limit=50)]
    assert draft not in offered and failed not in offered

    await make_playable(settings.database_url, draft)
    assert draft in [p["video"]["id"] for p in await recommended(api, me, limit=50)]


async def _set_status(settings: Settings, video_id: str, status: str) -> None:
    database = Database("main", settings.database_url)
    await database.start(max_size=1)
    try:
        await database.fetch("UPDATE videos SET status = {} WHERE id = {}", status, uuid.UUID(video_id))
    finally:
        await database.stop()


async def test_a_user_without_friends_gets_popular_videos(
    api: Client, settings: Settings, sync: Sync
) -> None:
    loner, owner, fan = [await person(settings) for _ in range(3)]
    hit = await video(api, owner)
    await rate(settings, fan, hit, 5)
    await api.post(f"/videos/{hit}/watches", headers=fan.headers)
    await sync()
    picks = await recommended(api, loner, limit=50)
    mine = [p for p in picks if p["video"]["id"] == hit]
    assert mine and mine[0]["reason"] == "popular"
    assert mine[0]["explanation"] == "popular on MyDRTV: 2 people rated it 4+ or watched it"
    assert all(p["reason"] == "popular" for p in picks)


async def test_watches_count_and_need_a_visible_video(api: Client, settings: Settings) -> None:
    viewer, owner = await person(settings), await person(settings)
    public, private = await video(api, owner), await video(api, owner, "private")
    first = (await api.post(f"/videos/{public}/watches", headers=viewer.headers)).json()
    second = (await api.post(f"/videos/{public}/watches", headers=viewer.headers)).json()
    assert (first["times"], second["times"]) == (1, 2)
    assert second["first_watched_at"] == first["first_watched_at"]
    assert second["last_watched_at"] >= first["last_watched_at"]
    hidden = await api.post(f"/videos/{private}/watches", headers=viewer.headers)
    assert hidden.status_code == 404 and hidden.json()["error"] == "video_not_found"
    assert (await api.post(f"/videos/{public}/watches")).status_code == 401


async def test_without_a_graph_discovery_answers_503(settings: Settings, app_client: Any) -> None:
    who = await person(settings)
    async with app_client() as api:
        for path in ("/me/suggestions/people", "/me/recommendations/videos"):
            response = await api.get(path, headers=who.headers)
            assert response.status_code == 503 and response.json()["error"] == "graph_unavailable"
            assert int(response.headers["Retry-After"]) >= 1


async def test_with_the_graph_down_discovery_answers_503(graph_settings: Settings) -> None:
    """For someone the graph must rank live (they follow someone, nothing is stored for them)."""
    who, followee = await person(graph_settings), await person(graph_settings)
    scheme = "bolt" if graph_settings.graph_url.startswith("bolt") else "falkor"
    down = msgspec.structs.replace(graph_settings, graph_url=f"{scheme}://127.0.0.1:1")
    async with AsyncTestClient(app=create_app(down)) as api:
        await follow(api, who, followee)
        response = await api.get("/me/suggestions/people", headers=who.headers)
        assert response.status_code == 503 and response.json()["error"] == "graph_unavailable"
        assert int(response.headers["Retry-After"]) >= 1


def test_the_strongest_signal_explains_a_pick() -> None:
    def row(**counts: int) -> dict[str, int]:
        names = ("rated_friends", "rated_following", "watched_friends", "watched_following", "recent_friends")
        return {name: counts.get(name, 0) for name in names}

    assert explain(row(recent_friends=3, rated_friends=3)) == (
        "trending_among_friends",
        "trending among your friends: 3 watched or rated it this week",
    )
    assert explain(row(rated_friends=3, rated_following=5)) == ("rated_by_friends", "3 friends rated this 4+")
    assert explain(row(rated_following=1)) == ("rated_by_following", "1 person you follow rated this 4+")
    assert explain(row(watched_friends=2, watched_following=2)) == (
        "watched_by_friends",
        "2 friends watched this",
    )
    assert explain(row(watched_following=4)) == ("watched_by_following", "4 people you follow watched this")


async def test_picks_past_many_hidden_ones_are_still_checked_for_visibility(
    api: Client, settings: Settings, sync: Sync
) -> None:
    """The visibility of the first picks is read beside the hidden ones; when the page is not full
    after them (limit + 10 at first), the next picks are read, twice as many each time."""
    viewer, owner, fan, other_fan = [await person(settings) for _ in range(4)]
    seen = [await video(api, owner) for _ in range(2 * (2 * 1 + 10) + 2)]
    for video_id in seen:  # the most popular videos, all watched by the viewer: hidden from them
        for who in (fan, other_fan):
            await rate(settings, who, video_id, 5)
            await api.post(f"/videos/{video_id}/watches", headers=who.headers)
        await api.post(f"/videos/{video_id}/watches", headers=viewer.headers)
    fresh = await video(api, owner)
    await rate(settings, fan, fresh, 5)
    await sync()
    picks = await recommended(api, viewer, limit=1)
    assert len(picks) == 1 and picks[0]["video"]["id"] not in seen


async def test_a_stored_ranking_is_served_past_picks_the_viewer_may_not_be_shown(
    api: Client, settings: Settings, sync: Sync
) -> None:
    """Picks that are unlisted, not playable, by someone blocked or private to others are left out
    of a stored ranking as of a live one, and the next picks fill the page in the ranking's order:
    here the first read (limit + 10 picks) finds one to show, the second the other."""
    viewer, owner, blocked, followee = [await person(settings) for _ in range(4)]
    await follow(api, viewer, followee)  # someone followed: the stored ranking is read
    assert (await api.put(f"/me/blocks/{blocked.id}", headers=viewer.headers)).status_code == 204
    await sync()
    left_out = [
        *[await video(api, owner, "unlisted") for _ in range(5)],
        *[await video(api, owner, ready=False) for _ in range(2)],
        *[await video(api, blocked) for _ in range(2)],
        *[await video(api, owner, "private") for _ in range(2)],
    ]
    shown = [await video(api, owner) for _ in range(3)]
    counts = dict.fromkeys(
        ("rated_friends", "rated_following", "watched_friends", "watched_following", "recent_friends"), 0
    )
    ranking = [
        {"id": video_id, **counts, "rated_following": 1, "score": 100 - n, "popularity": 0}
        for n, video_id in enumerate([*left_out, *shown])
    ]
    db = Database("main", settings.database_url)
    await db.start(max_size=1)
    try:
        await db.fetch(
            "INSERT INTO precomputed_rankings (user_id, kind, ranking, paths)"
            " VALUES ({}, 'videos', {}::jsonb, 1)",
            viewer.id,
            msgspec.json.encode(ranking).decode(),
        )
    finally:
        await db.stop()

    picks = await recommended(api, viewer, limit=2)

    assert [pick["video"]["id"] for pick in picks] == shown[:2]
    assert picks[0]["reason"] == "rated_by_following"

"""Moderation through the API: held words, reports and the queue, removal live and from history,
timeouts, bans, slow mode and the audit log."""

from __future__ import annotations

from typing import Any

import pytest

from core.db import Database
from core.settings import Settings
from tests.app.video_helpers import (
    Client,
    history,
    new_video,
    next_event,
    post,
    video_channel,
    watching,
)
from tests.users import Person, person


@pytest.fixture(scope="module")
async def moderator(social: Settings) -> Person:
    return await person(social, "moderator")


@pytest.fixture(scope="module")
async def admin(social: Settings) -> Person:
    return await person(social, "admin")


async def log_actions(api: Client, admin: Person, **filters: Any) -> list[tuple[str, str]]:
    entries = (await api.get("/moderation/log", params=filters, headers=admin.headers)).json()["items"]
    return [(e["action"], e["reason"]) for e in entries]


async def test_held_words_hold_a_comment_for_review_until_approved(
    api: Client, social: Settings, moderator: Person, admin: Person
) -> None:
    owner, author, reader = await person(social), await person(social), await person(social)
    video = await new_video(api, owner)
    word = await api.post(
        "/moderation/held-words", json={"word": "Spoiler Alert", "video_id": video}, headers=moderator.headers
    )
    assert word.status_code == 201 and word.json()["word"] == "Spoiler Alert"
    listed = (
        await api.get("/moderation/held-words", params={"video_id": video}, headers=moderator.headers)
    ).json()["items"]
    assert [w["word"] for w in listed if w["video_id"] == video] == ["Spoiler Alert"]

    async with watching(social) as bus:
        await bus.subscribe(video_channel(video))
        held = await post(api, author, video, "SPOILER ALERT: he was dead all along")
        clean = await post(api, author, video, "no spoilers alerted here")  # not the whole phrase
        assert (await next_event(bus, video_channel(video)))["comment"]["id"] == clean["id"]
        assert (held["status"], clean["status"]) == ("held", "visible")

        def ids(response: Any) -> list[int]:
            return [c["id"] for c in response.json()["items"]]

        path = f"/videos/{video}/comments"
        assert ids(await api.get(path)) == [clean["id"]]
        assert ids(await api.get(path, headers=reader.headers)) == [clean["id"]]
        assert ids(await api.get(path, headers=author.headers)) == [clean["id"], held["id"]]
        assert ids(await api.get(path, headers=moderator.headers)) == [clean["id"], held["id"]]
        assert (await api.get(f"/comments/{held['id']}", headers=reader.headers)).status_code == 404

        queue = (await api.get("/moderation/queue", headers=moderator.headers, params={"limit": 100})).json()
        (item,) = [i for i in queue["items"] if i["comment"]["id"] == held["id"]]
        assert (item["why"], item["reports"]) == ("held", 0)
        report = await api.post(
            f"/comments/{held['id']}/reports", json={"reason": "x"}, headers=author.headers
        )
        assert (report.status_code, report.json()["error"]) == (409, "already_held")

        approved = await api.post(
            f"/moderation/comments/{held['id']}/approve", json={"reason": "a joke"}, headers=moderator.headers
        )
        assert approved.status_code == 200 and approved.json()["status"] == "visible"
        event = await next_event(bus, video_channel(video))
    assert event == {"type": "comment.created", "comment": approved.json()}
    assert ids(await api.get(path)) == [clean["id"], held["id"]]
    again = await api.post(f"/moderation/comments/{held['id']}/approve", json={}, headers=moderator.headers)
    assert (again.status_code, again.json()["error"]) == (409, "nothing_to_review")
    assert ("comment.approve", "a joke") in await log_actions(api, admin, video_id=video)
    assert ("held_word.add", "") in await log_actions(api, admin, video_id=video)


async def test_an_edit_with_a_held_word_takes_the_comment_back_to_review(
    api: Client, social: Settings, moderator: Person
) -> None:
    author = await person(social)
    video = await new_video(api, author)
    await api.post(
        "/moderation/held-words", json={"word": "frobnicate", "video_id": video}, headers=moderator.headers
    )
    async with watching(social) as bus:
        await bus.subscribe(video_channel(video))
        comment = await post(api, author, video, "harmless")
        assert (await next_event(bus, video_channel(video)))["type"] == "comment.created"
        edited = await api.patch(
            f"/comments/{comment['id']}", json={"body": "let us frobnicate"}, headers=author.headers
        )
        assert edited.json()["status"] == "held"
        removed = await next_event(bus, video_channel(video))
        assert (removed["type"], removed["reason"]) == ("comment.removed", "held")
        assert [e["type"] for e in await history(bus, video_channel(video))] == ["comment.removed"]
    assert (await api.get(f"/comments/{comment['id']}")).status_code == 404
    assert (await api.get(f"/comments/{comment['id']}", headers=author.headers)).json()[
        "body"
    ] == "let us frobnicate"


async def test_reports_fill_the_queue_and_a_removal_vanishes_live_and_from_history(
    api: Client, social: Settings, moderator: Person, admin: Person
) -> None:
    owner, troll = await person(social), await person(social)
    reporters = [await person(social) for _ in range(2)]
    video = await new_video(api, owner)
    fine = await post(api, owner, video, "fine")
    bad = await post(api, troll, video, "something nasty")
    await api.patch(f"/comments/{bad['id']}", json={"body": "something nastier"}, headers=troll.headers)
    for n, reporter in enumerate(reporters):
        response = await api.post(
            f"/comments/{bad['id']}/reports", json={"reason": f"rude {n}"}, headers=reporter.headers
        )
        assert response.status_code == 204
    queue = (await api.get("/moderation/queue", headers=moderator.headers, params={"limit": 100})).json()
    (item,) = [i for i in queue["items"] if i["comment"]["id"] == bad["id"]]
    assert (item["why"], item["reports"], sorted(item["report_reasons"])) == (
        "reported",
        2,
        ["rude 0", "rude 1"],
    )

    async with watching(social) as bus:
        await bus.subscribe(video_channel(video))
        removed = await api.post(
            f"/moderation/comments/{bad['id']}/remove", json={"reason": "insults"}, headers=moderator.headers
        )
        assert removed.status_code == 204
        event = await next_event(bus, video_channel(video))
        assert event == {
            "type": "comment.removed",
            "video_id": video,
            "comment_id": bad["id"],
            "root_id": None,
            "reason": "removed",
        }
        events = await history(bus, video_channel(video))
    assert [e["type"] for e in events] == ["comment.created", "comment.removed"]
    assert events[0]["comment"]["id"] == fine["id"]
    for who in ({}, troll.headers, moderator.headers):
        assert (await api.get(f"/comments/{bad['id']}", headers=who)).status_code == 404
    queue = (await api.get("/moderation/queue", headers=moderator.headers, params={"limit": 100})).json()
    assert bad["id"] not in [i["comment"]["id"] for i in queue["items"]]
    log = (await api.get("/moderation/log", params={"user_id": str(troll.id)}, headers=admin.headers)).json()
    (entry,) = log["items"]
    assert (entry["action"], entry["reason"], entry["comment_id"]) == ("comment.remove", "insults", bad["id"])
    assert entry["actor"] == {"id": str(moderator.id), "handle": moderator.handle}
    assert entry["details"] == {"reports": 2}


async def test_the_audit_keeps_a_removed_comment_hidden_but_whole(
    api: Client, social: Settings, moderator: Person
) -> None:
    author = await person(social)
    video = await new_video(api, author)
    comment = await post(api, author, video, "evidence")
    await api.delete(f"/comments/{comment['id']}", headers=moderator.headers)  # a moderator's delete
    db = Database("main", social.database_url)
    await db.start(max_size=1)
    try:
        (row,) = await db.fetch("SELECT status, body, hidden_by FROM comments WHERE id = {}", comment["id"])
    finally:
        await db.stop()
    assert (row["status"], row["body"], row["hidden_by"]) == ("removed", "evidence", moderator.id)


async def test_timeouts_and_bans_refuse_with_the_time_left(
    api: Client, social: Settings, moderator: Person, admin: Person
) -> None:
    owner, user = await person(social), await person(social)
    video, elsewhere = await new_video(api, owner), await new_video(api, owner)
    timeout = await api.post(
        "/moderation/restrictions",
        json={
            "user_id": str(user.id),
            "kind": "timeout",
            "video_id": video,
            "seconds": 600,
            "reason": "cool off",
        },
        headers=moderator.headers,
    )
    assert timeout.status_code == 201, timeout.text
    assert (timeout.json()["kind"], timeout.json()["ends_at"] is not None) == ("timeout", True)
    refused = await api.post(f"/videos/{video}/comments", json={"body": "hey"}, headers=user.headers)
    assert (refused.status_code, refused.json()["error"]) == (403, "timed_out")
    details = refused.json()["details"]
    assert 590 <= details["remaining_seconds"] <= 600
    assert (details["scope"], details["reason"]) == ("video", "cool off")
    await post(api, user, elsewhere, "still fine here")
    rated = await api.put(f"/videos/{video}/rating", json={"stars": 4}, headers=user.headers)
    assert rated.status_code == 200  # a timeout stops comments only

    ban = await api.post(
        "/moderation/restrictions", json={"user_id": str(user.id), "kind": "ban"}, headers=moderator.headers
    )
    assert ban.status_code == 201 and ban.json()["ends_at"] is None
    for response in (
        await api.post(f"/videos/{elsewhere}/comments", json={"body": "hey"}, headers=user.headers),
        await api.put(f"/videos/{elsewhere}/rating", json={"stars": 1}, headers=user.headers),
    ):
        assert (response.status_code, response.json()["error"]) == (403, "banned")
        assert response.json()["details"]["remaining_seconds"] is None

    active = await api.get(
        "/moderation/restrictions", params={"user_id": str(user.id)}, headers=moderator.headers
    )
    assert [r["kind"] for r in active.json()["items"]] == ["ban", "timeout"]
    lifted = await api.post(
        f"/moderation/restrictions/{ban.json()['id']}/lift",
        json={"reason": "appeal"},
        headers=moderator.headers,
    )
    assert lifted.status_code == 200 and lifted.json()["lifted_at"] is not None
    twice = await api.post(
        f"/moderation/restrictions/{ban.json()['id']}/lift", json={}, headers=moderator.headers
    )
    assert (twice.status_code, twice.json()["error"]) == (409, "not_active")
    await post(api, user, elsewhere, "back")
    unknown = await api.post("/moderation/restrictions/987654321/lift", json={}, headers=moderator.headers)
    assert (unknown.status_code, unknown.json()["error"]) == (404, "restriction_not_found")
    actions = await log_actions(api, admin, user_id=str(user.id))
    assert actions == [
        ("restriction.lift", "appeal"),
        ("restriction.add", ""),
        ("restriction.add", "cool off"),
    ]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"kind": "timeout"}, 400, "seconds_required"),
        ({"kind": "timeout", "seconds": 0}, 400, "invalid_request"),
        ({"kind": "nap", "seconds": 10}, 400, "invalid_request"),
        ({"kind": "ban", "target": "moderator"}, 403, "target_is_staff"),
        ({"kind": "ban", "target": "unknown"}, 404, "user_not_found"),
        ({"kind": "ban", "video_id": "00000000-0000-4000-8000-000000000404"}, 404, "video_not_found"),
    ],
)
async def test_bad_restrictions_are_refused(
    api: Client, social: Settings, moderator: Person, body: dict[str, Any], status: int, code: str
) -> None:
    target = body.pop("target", "viewer")
    user_id = (
        "00000000-0000-4000-8000-000000000404"
        if target == "unknown"
        else str((await person(social, target)).id)
    )
    response = await api.post(
        "/moderation/restrictions", json={"user_id": user_id, **body}, headers=moderator.headers
    )
    assert (response.status_code, response.json()["error"]) == (status, code), response.text


async def test_slow_mode_paces_viewers_but_not_moderators(
    api: Client, social: Settings, moderator: Person
) -> None:
    owner, viewer = await person(social), await person(social)
    video = await new_video(api, owner)
    async with watching(social) as bus:
        await bus.subscribe(video_channel(video))
        changed = await api.put(
            f"/videos/{video}/slow-mode", json={"seconds": 120}, headers=moderator.headers
        )
        assert changed.json() == {"video_id": video, "seconds": 120}
        assert await next_event(bus, video_channel(video)) == {
            "type": "slow_mode",
            "video_id": video,
            "seconds": 120,
        }
    assert (await api.get(f"/videos/{video}/slow-mode")).json()["seconds"] == 120
    await post(api, viewer, video, "one")
    second = await api.post(f"/videos/{video}/comments", json={"body": "two"}, headers=viewer.headers)
    assert (second.status_code, second.json()["error"]) == (429, "slow_mode")
    assert 110 <= int(second.headers["retry-after"]) <= 120
    for n in range(3):
        await post(api, moderator, video, f"mod {n}")
    await api.put(f"/videos/{video}/slow-mode", json={"seconds": 0}, headers=moderator.headers)
    await post(api, owner, video, "a")
    await post(api, owner, video, "b")


async def test_held_word_list_changes(api: Client, moderator: Person, admin: Person) -> None:
    made = await api.post("/moderation/held-words", json={"word": "  zorgle  "}, headers=moderator.headers)
    assert made.status_code == 201 and made.json()["word"] == "zorgle" and made.json()["video_id"] is None
    again = await api.post("/moderation/held-words", json={"word": "zorgle"}, headers=moderator.headers)
    assert (again.status_code, again.json()["error"]) == (409, "word_exists")
    blank = await api.post("/moderation/held-words", json={"word": "   "}, headers=moderator.headers)
    assert (blank.status_code, blank.json()["error"]) == (400, "empty_word")
    path = f"/moderation/held-words/{made.json()['id']}"
    assert (await api.delete(path, headers=moderator.headers)).status_code == 204
    assert (await api.delete(path, headers=moderator.headers)).json()["error"] == "word_not_found"
    words = await every_page(api, "/moderation/held-words", moderator.headers)
    assert "zorgle" not in [w["word"] for w in words]
    assert ("held_word.remove", "") in await log_actions(api, admin)


async def test_the_audit_log_pages_newest_first(api: Client, admin: Person, moderator: Person) -> None:
    for n in range(3):
        await api.post("/moderation/held-words", json={"word": f"paged{n}"}, headers=moderator.headers)
    first = (await api.get("/moderation/log", params={"limit": 2}, headers=admin.headers)).json()
    second = (
        await api.get(
            "/moderation/log", params={"limit": 2, "cursor": first["next_cursor"]}, headers=admin.headers
        )
    ).json()
    words = [e["details"].get("word") for e in first["items"] + second["items"]]
    assert words[:3] == ["paged2", "paged1", "paged0"]
    ids = [e["id"] for e in first["items"] + second["items"]]
    assert ids == sorted(ids, reverse=True)


async def test_held_words_page_oldest_first(api: Client, moderator: Person) -> None:
    made = [
        (
            await api.post(
                "/moderation/held-words", json={"word": f"pagedword{n}"}, headers=moderator.headers
            )
        ).json()
        for n in range(3)
    ]
    first = (await api.get("/moderation/held-words", params={"limit": 1}, headers=moderator.headers)).json()
    assert len(first["items"]) == 1 and first["next_cursor"] is not None
    words = await every_page(api, "/moderation/held-words", moderator.headers, limit=1)
    ids = [w["id"] for w in words]
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    assert [w["id"] for w in words if w["word"].startswith("pagedword")] == [w["id"] for w in made]


async def every_page(api: Client, path: str, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    """Every item of a paged list, one small page after the other."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        page = (await api.get(path, params=query, headers=headers)).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


async def test_the_queue_pages_longest_waiting_first(
    api: Client, social: Settings, moderator: Person
) -> None:
    owner, reporter = await person(social), await person(social)
    video = await new_video(api, owner)
    reported = [(await post(api, owner, video, f"queued {n}"))["id"] for n in range(3)]
    for comment in reported:
        report = await api.post(
            f"/comments/{comment}/reports", json={"reason": "spam"}, headers=reporter.headers
        )
        assert report.status_code == 204
    queue = await every_page(api, "/moderation/queue", moderator.headers, limit=1)
    assert [i["comment"]["id"] for i in queue if i["comment"]["id"] in reported] == reported
    waiting = [i["waiting_since"] for i in queue]
    assert waiting == sorted(waiting)


async def test_restrictions_page_newest_first(api: Client, social: Settings, moderator: Person) -> None:
    owner = await person(social)
    video = await new_video(api, owner)
    made = []
    for _ in range(3):
        user = await person(social)
        restriction = await api.post(
            "/moderation/restrictions",
            json={"user_id": str(user.id), "kind": "ban", "video_id": video},
            headers=moderator.headers,
        )
        made.append(restriction.json()["id"])
    listed = await every_page(api, "/moderation/restrictions", moderator.headers, video_id=video, limit=2)
    assert [r["id"] for r in listed] == made[::-1]

"""Notifications over REST against a real app: who is told of what, grouping, undoing, reading,
settings, and the personal-data hooks."""

from __future__ import annotations

import uuid

import pytest

from app.notifications.notify import notify
from app.notifications.service import erase_notifications, export_notifications
from core.db import Database
from core.settings import Settings
from tests.app.notifications.conftest import Client, follow, notifications, unfollow, unread
from tests.app.profiles.helpers import member
from tests.app.video_helpers import new_video, post
from tests.users import person


async def test_new_followers_collapse_into_one_notification_naming_the_latest(
    client: Client, settings: Settings
) -> None:
    me = await person(settings)
    fans = [await person(settings) for _ in range(5)]
    for fan in fans:
        await follow(client, fan, me)
    (note,) = await notifications(client, me)
    assert note["kind"] == "follow" and note["actor_count"] == 5 and not note["read"]
    assert [a["id"] for a in note["actors"]] == [str(f.id) for f in reversed(fans[2:])]
    assert [a["handle"] for a in note["actors"]] == [f.handle for f in reversed(fans[2:])]
    assert await unread(client, me) == 1
    await follow(client, fans[0], me)  # following again is no news
    assert (await notifications(client, me))[0]["actor_count"] == 5


async def test_an_unfollow_before_it_is_read_shrinks_then_withdraws_the_notification(
    client: Client, settings: Settings
) -> None:
    me, ana, bo = await person(settings), await person(settings), await person(settings)
    await follow(client, ana, me)
    await follow(client, bo, me)
    await unfollow(client, ana, me)
    (note,) = await notifications(client, me)
    assert note["actor_count"] == 1 and note["actors"][0]["id"] == str(bo.id)
    await unfollow(client, bo, me)
    assert await notifications(client, me) == []
    assert await unread(client, me) == 0


async def test_an_unfollow_after_it_was_read_leaves_it_and_a_new_follower_starts_a_new_one(
    client: Client, settings: Settings
) -> None:
    me, ana, bo = await person(settings), await person(settings), await person(settings)
    await follow(client, ana, me)
    assert (await client.post("/me/notifications/read", headers=me.headers)).json() == {"count": 0}
    await unfollow(client, ana, me)
    await follow(client, bo, me)
    first, second = await notifications(client, me)
    assert first["actors"][0]["id"] == str(bo.id) and not first["read"]
    assert second["actors"][0]["id"] == str(ana.id) and second["read"]


async def test_a_group_older_than_the_window_is_not_grown(
    client: Client, settings: Settings, db: Database
) -> None:
    me, ana, bo = await person(settings), await person(settings), await person(settings)
    await follow(client, ana, me)
    await db.fetch(
        "UPDATE notifications SET updated_at = now() - interval '2 days' WHERE recipient_id = {}", me.id
    )
    await follow(client, bo, me)
    assert [n["actor_count"] for n in await notifications(client, me)] == [1, 1]


async def test_a_follow_back_makes_friends_and_says_so(client: Client, settings: Settings) -> None:
    me, ana = await person(settings), await person(settings)
    await follow(client, me, ana)
    await follow(client, ana, me)
    (note,) = await notifications(client, me)
    assert note["kind"] == "friend" and note["actors"][0]["id"] == str(ana.id)
    assert [n["kind"] for n in await notifications(client, ana)] == ["follow"]


async def test_nothing_from_people_i_muted_or_blocked_and_a_block_takes_theirs_back(
    client: Client, settings: Settings
) -> None:
    me, muted, blocked, later = [await person(settings) for _ in range(4)]
    assert (await client.put(f"/me/mutes/{muted.id}", headers=me.headers)).status_code == 204
    await follow(client, muted, me)
    assert await notifications(client, me) == []
    video = await new_video(client, me)
    mine = await post(client, me, video, "what do you think?")
    await post(client, later, video, "good", parent_id=mine["id"])
    await follow(client, later, me)
    assert await unread(client, me) == 2
    assert (await client.put(f"/me/blocks/{later.id}", headers=me.headers)).status_code == 204
    assert await notifications(client, me) == [] and await unread(client, me) == 0
    assert (await client.put(f"/me/blocks/{blocked.id}", headers=me.headers)).status_code == 204
    await post(client, blocked, video, f"hey @{me.handle}")
    assert await notifications(client, me) == []


async def test_replies_to_one_comment_group_and_a_deleted_reply_leaves_the_group(
    client: Client, settings: Settings
) -> None:
    me, ana, bo = await person(settings), await person(settings), await person(settings)
    video = await new_video(client, me)
    first = await post(client, me, video, "first")
    second = await post(client, me, video, "second")
    await post(client, me, video, "my own reply", parent_id=first["id"])  # never for my own action
    reply = await post(client, ana, video, "reply", parent_id=first["id"])
    await post(client, bo, video, "me too", parent_id=first["id"])
    await post(client, ana, video, "elsewhere", parent_id=second["id"])
    elsewhere, grouped = await notifications(client, me)
    assert grouped["kind"] == "reply" and grouped["comment_id"] == first["id"] and grouped["actor_count"] == 2
    assert elsewhere["comment_id"] == second["id"] and elsewhere["actor_count"] == 1
    assert grouped["video_id"] == video
    assert (await client.delete(f"/comments/{reply['id']}", headers=ana.headers)).status_code == 204
    _, grouped = await notifications(client, me)
    assert grouped["actor_count"] == 1 and grouped["actors"][0]["id"] == str(bo.id)


async def test_a_mention_tells_who_may_see_the_video_and_goes_with_its_comment(
    client: Client, settings: Settings
) -> None:
    author, ada, stranger, member = [await person(settings) for _ in range(4)]
    video = await new_video(client, author)
    comment = await post(client, author, video, f"look @{ada.handle.upper()}, mail me@{stranger.handle}")
    (note,) = await notifications(client, ada)
    assert note["kind"] == "mention" and note["comment_id"] == comment["id"]
    assert note["data"]["excerpt"].startswith("look @")
    assert await notifications(client, stranger) == []  # an email address is no mention
    private = await new_video(client, author, visibility="private")
    response = await client.put(f"/videos/{private}/members/{member.id}", headers=author.headers)
    assert response.status_code == 204, response.text
    await post(client, author, private, f"@{stranger.handle} @{member.handle} secret")
    assert await notifications(client, stranger) == []
    assert [n["kind"] for n in await notifications(client, member)] == ["mention"]
    assert (await client.delete(f"/comments/{comment['id']}", headers=author.headers)).status_code == 204
    assert await notifications(client, ada) == [] and await unread(client, ada) == 0


async def test_a_moderator_removal_and_approval_tell_the_author(client: Client, settings: Settings) -> None:
    author, moderator = await person(settings), await person(settings, role="moderator")
    video = await new_video(client, author)
    comment = await post(client, author, video, "something")
    response = await client.post(
        f"/moderation/comments/{comment['id']}/remove", json={"reason": "spam"}, headers=moderator.headers
    )
    assert response.status_code == 204, response.text
    (note,) = await notifications(client, author)
    assert note["kind"] == "moderation" and note["actors"] == [] and note["actor_count"] == 0
    assert note["data"] == {"action": "removed", "reason": "spam"} and note["comment_id"] == comment["id"]


async def test_a_disabled_kind_is_not_created_and_unknown_kinds_are_refused(
    client: Client, settings: Settings
) -> None:
    me, ana = await person(settings), await person(settings)
    defaults = (await client.get("/me/notification-settings", headers=me.headers)).json()
    assert set(defaults) >= {"reply", "mention", "follow", "friend", "party_invite", "moderation"}
    assert all(defaults.values())
    response = await client.put("/me/notification-settings", json={"follow": False}, headers=me.headers)
    assert response.status_code == 200 and response.json() == {**defaults, "follow": False}
    await follow(client, ana, me)
    assert await notifications(client, me) == []
    bad = await client.put("/me/notification-settings", json={"follows": False}, headers=me.headers)
    assert bad.status_code == 400 and bad.json()["error"] == "unknown_notification_kind"
    assert bad.json()["details"]["unknown"] == ["follows"]
    wrong = await client.put("/me/notification-settings", json={"follow": "no"}, headers=me.headers)
    assert wrong.status_code == 400
    assert (await client.get("/me/notification-settings", headers=me.headers)).json()["follow"] is False


async def test_marking_read_one_and_all_and_paging(client: Client, settings: Settings) -> None:
    me, other = await person(settings), await person(settings)
    authors = [await person(settings) for _ in range(5)]
    video = await new_video(client, me)
    for author in authors:
        await post(client, author, video, f"hi @{me.handle}")
    assert await unread(client, me) == 5
    pages, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = (await client.get("/me/notifications", headers=me.headers, params=params)).json()
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    ids = [n["id"] for page in pages for n in page]
    assert [len(page) for page in pages] == [2, 2, 1] and ids == sorted(ids, reverse=True)
    read = await client.post(f"/me/notifications/{ids[0]}/read", headers=me.headers)
    assert read.status_code == 200 and read.json() == {"count": 4}
    assert (await client.post(f"/me/notifications/{ids[0]}/read", headers=me.headers)).json() == {"count": 4}
    assert len(await notifications(client, me, unread="true")) == 4
    foreign = await client.post(f"/me/notifications/{ids[1]}/read", headers=other.headers)
    assert foreign.status_code == 404 and foreign.json()["error"] == "notification_not_found"
    assert (await client.post("/me/notifications/read", headers=me.headers)).json() == {"count": 0}
    assert await unread(client, me) == 0
    bad = await client.get("/me/notifications", headers=me.headers, params={"cursor": "nonsense!"})
    assert bad.status_code == 400
    assert (await client.get("/me/notifications")).status_code == 401


async def test_a_party_member_invites_someone_by_handle(client: Client, settings: Settings) -> None:
    host, guest, outsider = await person(settings), await person(settings), await person(settings)
    video = await new_video(client, host)
    party = (
        await client.post("/parties", json={"video_id": video, "visibility": "private"}, headers=host.headers)
    ).json()
    url = f"/parties/{party['id']}/invitations"
    response = await client.post(url, json={"handle": f" {guest.handle.upper()} "}, headers=host.headers)
    assert response.status_code == 204, response.text
    (note,) = await notifications(client, guest)
    assert note["kind"] == "party_invite" and note["party_id"] == party["id"]
    assert note["actors"][0]["id"] == str(host.id) and note["video_id"] == video
    joined = await client.post(
        f"/parties/{party['id']}/join", json={"invite": note["data"]["invite"]}, headers=guest.headers
    )
    assert joined.status_code == 200, joined.text
    refusals = [
        (outsider, {"handle": guest.handle}, 404, "party_not_found"),  # a private party it cannot see
        (host, {"handle": "nobody_by_that_name"}, 404, "user_not_found"),
        (host, {"handle": host.handle}, 400, "cannot_invite_self"),
        (host, {"handle": guest.handle}, 409, "already_member"),
        (host, {"handle": ""}, 400, "invalid_request"),
    ]
    for who, body, status, code in refusals:
        refused = await client.post(url, json=body, headers=who.headers)
        assert (refused.status_code, refused.json()["error"]) == (status, code), refused.text


async def test_what_rolls_back_notifies_nobody(db: Database, settings: Settings) -> None:
    me, ana = await person(settings), await person(settings)
    with pytest.raises(RuntimeError):
        async with db.engine.transaction():
            assert await notify(db, me.id, "follow", actor_id=ana.id) is not None
            raise RuntimeError("the follow failed")
    assert await db.fetch("SELECT 1 FROM notifications WHERE recipient_id = {}", me.id) == []
    assert await db.fetch("SELECT 1 FROM outbox WHERE channel = {}", f"user:{me.id}") == []


async def test_export_and_erase_cover_notifications_to_and_from_a_user(
    client: Client, settings: Settings, db: Database
) -> None:
    me, ana, bo = await person(settings), await person(settings), await person(settings)
    await follow(client, ana, me)
    await follow(client, bo, me)
    await follow(client, me, bo)  # bo is told: from me, a friend
    exported = await export_notifications(db, me.id)
    assert [(n["kind"], n["actor_count"]) for n in exported] == [("follow", 2)]
    assert uuid.UUID(exported[0]["actors"][0]["id"]) == bo.id

    assert await erase_notifications(db, ana.id) == 0  # her part goes; the group keeps bo
    (left,) = await notifications(client, me)
    assert left["actor_count"] == 1 and left["actors"][0]["id"] == str(bo.id)
    assert await erase_notifications(db, me.id) == 2  # mine, and bo's that only I was in
    assert await export_notifications(db, me.id) == [] and await notifications(client, bo) == []
    assert await db.fetch("SELECT 1 FROM notification_actors WHERE actor_id = {}", me.id) == []


async def test_a_held_comment_tells_nobody_until_a_moderator_approves_it(
    client: Client, settings: Settings
) -> None:
    author, ada, moderator = (
        await person(settings),
        await person(settings),
        await person(settings, role="moderator"),
    )
    video = await new_video(client, author)
    word = {"word": "zorblax", "video_id": video}
    assert (
        await client.post("/moderation/held-words", json=word, headers=moderator.headers)
    ).status_code == 201
    held = await post(client, author, video, f"zorblax @{ada.handle}")
    assert held["status"] == "held"
    assert await notifications(client, ada) == []
    response = await client.post(
        f"/moderation/comments/{held['id']}/approve", json={"reason": "fine"}, headers=moderator.headers
    )
    assert response.status_code == 200, response.text
    assert [n["kind"] for n in await notifications(client, ada)] == ["mention"]
    (note,) = await notifications(client, author)
    assert note["kind"] == "moderation" and note["data"] == {"action": "approved", "reason": "fine"}


async def test_the_page_names_actors_by_their_display_names(client: Client, settings: Settings) -> None:
    me, bo = await person(settings), await person(settings)
    ana = await member(settings, display_name="Ana Ávila")
    await follow(client, ana, me)
    await follow(client, bo, me)
    (note,) = await notifications(client, me)
    names = {a["handle"]: a["display_name"] for a in note["actors"]}
    assert names == {ana.handle: "Ana Ávila", bo.handle: None}

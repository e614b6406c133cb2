"""A user with data in every store, made through the API where there is one (so the outbox, the
history streams, the graph and the rate-limit counters fill as they do in use), and straight in
storage and presence where the data comes from elsewhere (a transcoder's files, a socket)."""

from __future__ import annotations

import io
import random
import uuid
from typing import Any

import msgspec
from litestar.testing import AsyncTestClient
from PIL import Image

from core.db import Database
from core.settings import Settings
from media.storage.base import Storage
from realtime.protocol import User
from server import backends
from tests.app.video_helpers import new_video, post
from tests.users import PASSWORD, Person, login, register, unique_handle

Client = AsyncTestClient[Any]


async def signed_up(api: Client, prefix: str = "user", **fields: Any) -> tuple[Person, dict[str, Any]]:
    """A registered user (identity row, consents), signed in (a refresh token)."""
    handle = unique_handle(prefix)
    body = await register(api, handle, consents={"personalization": True, "analytics": False}, **fields)
    tokens = await login(api, body["email"])
    me = Person(id=uuid.UUID(body["id"]), handle=handle, role="viewer", token=tokens["access_token"])
    return me, {**body, **tokens}


class Seeded(msgspec.Struct):
    """What was made for one user: every value the export must carry."""

    person: Person
    email: str
    refresh_token: str
    videos: list[str]
    sources: dict[str, bytes]  # storage key of each original upload -> its bytes
    renditions: list[str]
    comments: list[str]  # their bodies
    answered_comment: int  # a comment of theirs that someone else replied to
    rated: dict[str, int]
    party: str
    chat: str
    followed: list[uuid.UUID]
    blocked: uuid.UUID
    muted: uuid.UUID
    display_name: str
    bio: str
    avatar: list[str]  # the avatar's URLs, each ``/avatars/<user>/<digest>/<size>.webp``
    notifications: set[str]  # kinds of the notifications kept for them
    notified: int  # how many notifications of others' they are an actor in


def avatar_picture() -> bytes:
    """A PNG of a colour of its own, so two users' avatars differ."""
    out = io.BytesIO()
    Image.new("RGB", (96, 96), tuple(random.randrange(256) for _ in range(3))).save(out, "PNG")
    return out.getvalue()


async def seed(
    api: Client,
    settings: Settings,
    db: Database,
    storage: Storage,
    others: list[Person],
    prefix: str,
) -> Seeded:
    """A user with data in every store; ``others`` (at least three) follow, reply, host, join."""
    me, account = await signed_up(api, prefix, birth_date="1990-05-17")
    friend, blocked, muted = others[0], others[1], others[2]
    videos = [await new_video(api, me, title=f"{prefix} video {n}") for n in range(2)]
    sources: dict[str, bytes] = {}
    renditions: list[str] = []
    for n, video in enumerate(videos):
        source = f"videos/{video}/sources/{uuid.uuid4()}"
        sources[source] = f"{prefix} original upload {n}".encode() * 100
        await storage.put_bytes(source, sources[source], "application/octet-stream")
        for name in ("master.m3u8", "720p/index.m3u8", "720p/seg0.ts", "poster.jpg"):
            key = f"videos/{video}/hls/j1a1/{name}"
            await storage.put_bytes(key, b"rendition " + key.encode(), "application/octet-stream")
            renditions.append(key)
    elsewhere = await new_video(api, friend, title="a friend's video")
    texts = [f"{prefix} says hello {n}" for n in range(3)]
    root = await post(api, me, elsewhere, texts[0])
    await post(api, me, elsewhere, texts[1])
    await post(api, friend, elsewhere, f"a reply by {friend.handle}", parent_id=root["id"])
    theirs = await post(api, friend, elsewhere, f"a comment by {friend.handle}")
    await post(api, me, elsewhere, texts[2], parent_id=theirs["id"])
    rated = {elsewhere: 4, videos[0]: 5}
    for video, stars in rated.items():
        assert (
            await api.put(f"/videos/{video}/rating", json={"stars": stars}, headers=me.headers)
        ).is_success
    assert (
        await api.put(f"/videos/{elsewhere}/rating", json={"stars": 2}, headers=friend.headers)
    ).is_success
    for who in others:
        assert (await api.put(f"/me/following/{who.id}", headers=me.headers)).status_code == 204
    assert (await api.put(f"/me/following/{me.id}", headers=friend.headers)).status_code == 204
    assert (await api.delete(f"/me/following/{blocked.id}", headers=me.headers)).status_code == 204
    assert (await api.put(f"/me/blocks/{blocked.id}", headers=me.headers)).status_code == 204
    assert (await api.put(f"/me/mutes/{muted.id}", headers=me.headers)).status_code == 204
    assert (await api.post(f"/videos/{elsewhere}/watches", headers=me.headers)).status_code == 201
    party = (await api.post("/parties", json={"video_id": elsewhere}, headers=me.headers)).json()
    joined = await api.post(f"/parties/{party['id']}/join", json={}, headers=friend.headers)
    assert joined.is_success, joined.text
    chat = f"{prefix} chats in the party"
    await db.fetch(
        "INSERT INTO party_messages (party_id, user_id, text, video_id, position)"
        " VALUES ({}, {}, {}, {}, 1.5)",
        uuid.UUID(party["id"]),
        me.id,
        chat,
        uuid.UUID(elsewhere),
    )
    display_name, bio = f"{prefix} Name", f"{prefix} writes a bio"
    changed = await api.patch(
        "/me/profile", json={"display_name": display_name, "bio": bio}, headers=me.headers
    )
    assert changed.status_code == 200, changed.text
    uploaded = await api.put(
        "/me/avatar", content=avatar_picture(), headers={**me.headers, "content-type": "image/png"}
    )
    assert uploaded.status_code == 200, uploaded.text
    switched = await api.put("/me/notification-settings", json={"mention": False}, headers=me.headers)
    assert switched.status_code == 200, switched.text
    kinds = await db.fetch("SELECT DISTINCT kind FROM notifications WHERE recipient_id = {}", me.id)
    acted = await db.fetch("SELECT count(*) AS n FROM notification_actors WHERE actor_id = {}", me.id)
    presence = backends.presence(settings)
    await presence.join(f"video:{elsewhere}", f"client-{me.id}", User(str(me.id), me.handle))
    await presence.close()
    return Seeded(
        person=me,
        email=account["email"],
        refresh_token=account["refresh_token"],
        videos=videos,
        sources=sources,
        renditions=renditions,
        comments=texts,
        answered_comment=int(root["id"]),
        rated=rated,
        party=party["id"],
        chat=chat,
        followed=[friend.id, muted.id],
        blocked=blocked.id,
        muted=muted.id,
        display_name=display_name,
        bio=bio,
        avatar=[image["url"] for image in uploaded.json()["avatar"]],
        notifications={row["kind"] for row in kinds},
        notified=int(acted[0]["n"]),
    )


__all__ = ["PASSWORD", "Seeded", "seed", "signed_up"]

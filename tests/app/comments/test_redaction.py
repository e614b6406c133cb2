"""What a client recovering a video channel from its start may read after a removal, on a real
``mydrtv serve`` process: nothing of a hidden comment's text (replies and edits included), and the
history changes only once the removal commits."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest

from clients.websocket import Client
from core.settings import Settings
from realtime import protocol
from tests.app.video_helpers import make_playable, roomy
from tests.processes import ServerProcess
from tests.users import Person, person


@pytest.fixture(scope="module")
def social(settings: Settings) -> Settings:
    return roomy(settings)


@pytest.fixture(scope="module")
async def server(social: Settings) -> AsyncIterator[ServerProcess]:
    process = ServerProcess(social)
    await process.start()
    yield process
    await process.stop()


@pytest.fixture(scope="module")
async def api(server: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.http_url, timeout=30) as client:
        yield client


async def _video(api: httpx.AsyncClient, owner: Person, database_url: str | None = None) -> str:
    """A video; a playable one with ``database_url`` (feeds offer only those)."""
    response = await api.post("/videos", json={"title": "redaction"}, headers=owner.headers)
    assert response.status_code == 201, response.text
    if database_url is not None:
        await make_playable(database_url, response.json()["id"])
    return str(response.json()["id"])


async def _post(api: httpx.AsyncClient, who: Person, video: str, body: str, **fields: Any) -> dict[str, Any]:
    response = await api.post(f"/videos/{video}/comments", json={"body": body, **fields}, headers=who.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _until(client: Client, kind: str, comment_id: int) -> None:
    """Read live events until ``kind`` about ``comment_id`` arrives (the relay has got that far)."""
    while True:
        event = msgspec.json.decode((await client.publication(10)).data)
        about = event.get("comment_id") or event.get("comment", {}).get("id")
        if event["type"] == kind and about == comment_id:
            return


async def _from_start(server: ServerProcess, channel: str, epoch: str, token: str | None = None) -> str:
    """Everything a client recovering ``channel`` from offset 0 receives, as one JSON text."""
    late, _ = await Client.connect(server.ws_url, token)
    late.positions[channel] = protocol.Recover(epoch, 0)
    reply = await late.subscribe(channel, recover=True)
    await late.close()
    assert reply.recovered
    return msgspec.json.encode([msgspec.json.decode(p.data) for p in reply.publications]).decode()


async def test_removing_a_thread_withdraws_its_replies_and_edits_from_history(
    server: ServerProcess, api: httpx.AsyncClient, social: Settings
) -> None:
    author, replier, moderator = await person(social), await person(social), await person(social, "moderator")
    video = await _video(api, author)
    channel = f"video:{video}"
    watcher, _ = await Client.connect(server.ws_url)
    epoch = (await watcher.subscribe(channel)).epoch

    root = await _post(api, author, video, "root text alpha")
    reply = await _post(api, replier, video, "reply text bravo", parent_id=root["id"])
    edited = await api.patch(
        f"/comments/{reply['id']}", json={"body": "edited reply charlie"}, headers=replier.headers
    )
    assert edited.status_code == 200, edited.text
    await _until(watcher, "comment.edited", reply["id"])
    before = await _from_start(server, channel, epoch)
    assert all(text in before for text in ("root text alpha", "reply text bravo", "edited reply charlie"))

    removed = await api.post(
        f"/moderation/comments/{root['id']}/remove", json={"reason": "thread"}, headers=moderator.headers
    )
    assert removed.status_code == 204, removed.text
    await _until(watcher, "comment.removed", root["id"])

    after = await _from_start(server, channel, epoch)
    for text in ("root text alpha", "reply text bravo", "edited reply charlie"):
        assert text not in after
    assert [e["type"] for e in msgspec.json.decode(after)] == ["comment.removed"]
    await watcher.close()


async def test_a_rolled_back_removal_leaves_history_whole_and_a_committed_one_empties_it(
    server: ServerProcess, api: httpx.AsyncClient, social: Settings
) -> None:
    author, moderator = await person(social), await person(social, "moderator")
    video = await _video(api, author)
    channel = f"video:{video}"
    watcher, _ = await Client.connect(server.ws_url)
    epoch = (await watcher.subscribe(channel)).epoch
    comment = await _post(api, author, video, "stays visible delta")
    await _until(watcher, "comment.created", comment["id"])

    # The audit log write, after the redaction point in the same transaction, fails: all rolls back.
    connection = await asyncpg.connect(social.database_url)
    try:
        await connection.execute(
            "CREATE FUNCTION refuse_log() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN RAISE EXCEPTION 'the audit log is unavailable'; END $$;"
            " CREATE TRIGGER refuse_log BEFORE INSERT ON moderation_log"
            " FOR EACH ROW EXECUTE FUNCTION refuse_log()"
        )
        failed = await api.post(
            f"/moderation/comments/{comment['id']}/remove", json={"reason": "x"}, headers=moderator.headers
        )
        assert failed.status_code == 500
    finally:
        await connection.execute("DROP TRIGGER refuse_log ON moderation_log; DROP FUNCTION refuse_log()")
        await connection.close()

    assert (await api.get(f"/comments/{comment['id']}")).status_code == 200
    assert "stays visible delta" in await _from_start(server, channel, epoch)

    removed = await api.post(
        f"/moderation/comments/{comment['id']}/remove", json={"reason": "x"}, headers=moderator.headers
    )
    assert removed.status_code == 204, removed.text
    await _until(watcher, "comment.removed", comment["id"])
    assert "stays visible delta" not in await _from_start(server, channel, epoch)
    await watcher.close()


async def test_a_removed_comments_feed_items_leave_its_authors_followers_channels(
    server: ServerProcess, api: httpx.AsyncClient, social: Settings
) -> None:
    author, follower, moderator = (
        await person(social),
        await person(social),
        await person(social, "moderator"),
    )
    followed = await api.put(f"/me/following/{author.id}", headers=follower.headers)
    assert followed.status_code == 204, followed.text
    video = await _video(api, author, social.database_url)
    own = f"user:{follower.id}"
    online, _ = await Client.connect(server.ws_url, follower.token)
    epoch = (await online.subscribe(own)).epoch
    await online.subscribe(f"video:{video}")

    comment = await _post(api, author, video, "excerpt echo foxtrot")
    while True:  # the feed item reaches the online follower, its excerpt included
        publication = await online.publication(10)
        if publication.channel == own:
            break
    assert "excerpt echo foxtrot" in await _from_start(server, own, epoch, follower.token)

    removed = await api.post(
        f"/moderation/comments/{comment['id']}/remove", json={"reason": "x"}, headers=moderator.headers
    )
    assert removed.status_code == 204, removed.text
    await _until(online, "comment.removed", comment["id"])
    assert "excerpt echo foxtrot" not in await _from_start(server, own, epoch, follower.token)
    await online.close()


async def test_a_root_held_again_hides_its_thread_until_approved(
    server: ServerProcess, api: httpx.AsyncClient, social: Settings
) -> None:
    author, replier, moderator = await person(social), await person(social), await person(social, "moderator")
    video = await _video(api, author)
    channel = f"video:{video}"
    watcher, _ = await Client.connect(server.ws_url)
    epoch = (await watcher.subscribe(channel)).epoch
    word = f"held{uuid.uuid4().hex[:8]}"
    added = await api.post(
        "/moderation/held-words", json={"word": word, "video_id": video}, headers=moderator.headers
    )
    assert added.status_code == 201, added.text
    root = await _post(api, author, video, "root golf")
    reply = await _post(api, replier, video, "reply hotel", parent_id=root["id"])

    edited = await api.patch(f"/comments/{root['id']}", json={"body": f"root {word}"}, headers=author.headers)
    assert (edited.status_code, edited.json()["status"]) == (200, "held")
    await _until(watcher, "comment.removed", root["id"])
    assert "reply hotel" not in await _from_start(server, channel, epoch)

    approved = await api.post(
        f"/moderation/comments/{root['id']}/approve", json={"reason": "fine"}, headers=moderator.headers
    )
    assert approved.status_code == 200, approved.text
    await _until(watcher, "comment.created", reply["id"])
    history = await _from_start(server, channel, epoch)
    assert f"root {word}" in history and "reply hotel" in history
    await watcher.close()

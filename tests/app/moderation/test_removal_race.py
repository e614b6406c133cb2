"""A removal that overtakes its comment's created event: the event is still in the outbox (no
relay runs in this module's database) when the moderator removes the comment."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from core.db import Database
from core.settings import Settings
from realtime.outbox import Relay
from server.factory import create_app
from tests.app.video_helpers import history, new_video, next_event, post, roomy, video_channel, watching
from tests.users import person


async def test_a_removal_while_the_created_event_waits_in_the_outbox_reaches_nobody(
    settings: Settings,
) -> None:
    """No relay runs: the comment's created event is still in the outbox when it is removed."""
    quiet = roomy(settings, outbox_relay=False)
    author, moderator = await person(quiet), await person(quiet, "moderator")
    async with AsyncTestClient(app=create_app(quiet)) as api, watching(quiet) as bus:
        video = await new_video(api, author)
        await bus.subscribe(video_channel(video))
        comment = await post(api, author, video, "posted and removed before anyone saw it")
        remove = await api.post(
            f"/moderation/comments/{comment['id']}/remove", json={"reason": "fast"}, headers=moderator.headers
        )
        assert remove.status_code == 204
        db = Database("main", quiet.database_url)
        await db.start(max_size=2)
        try:
            await Relay(db, bus).drain()
        finally:
            await db.stop()
        event = await next_event(bus, video_channel(video))
        assert (event["type"], event["comment_id"]) == ("comment.removed", comment["id"])
        assert [e["type"] for e in await history(bus, video_channel(video))] == ["comment.removed"]

"""The sweep sends totals that changed without a ``@ratings`` event (or whose event a crash lost).
No relay runs in this module's database, so nothing else sends them meanwhile."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from app.ratings.broadcaster import RatingBroadcaster
from core.db import Database
from core.settings import Settings
from server.factory import create_app
from tests.app.video_helpers import new_video, next_event, roomy, video_channel, watching
from tests.users import person


async def test_the_sweep_sends_totals_that_changed_unannounced(settings: Settings) -> None:
    """A rater's account is deleted: the cascade changes the totals without any API call."""
    quiet = roomy(settings, outbox_relay=False)
    owner, leaving, staying = await person(quiet), await person(quiet), await person(quiet)
    db = Database("main", quiet.database_url)
    await db.start(max_size=2)
    async with AsyncTestClient(app=create_app(quiet)) as api, watching(quiet) as bus:
        video = await new_video(api, owner)
        for who, stars in ((leaving, 1), (staying, 5)):
            response = await api.put(f"/videos/{video}/rating", json={"stars": stars}, headers=who.headers)
            assert response.status_code == 200
        await bus.subscribe(video_channel(video))
        broadcaster = RatingBroadcaster(db, bus, per_second=4.0)
        await db.fetch("DELETE FROM users WHERE id = {}", leaving.id)
        assert await broadcaster.sweep() == 0  # changed too recently: a flush may still be on its way
        await db.fetch(
            "UPDATE rating_totals SET changed_at = now() - interval '1 minute' WHERE video_id = {}", video
        )
        assert await broadcaster.sweep() == 1
        event = await next_event(bus, video_channel(video))
        assert await broadcaster.sweep() == 0
    (row,) = await db.fetch("SELECT version, published_version FROM rating_totals WHERE video_id = {}", video)
    await db.stop()
    assert (event["type"], event["count"], event["histogram"], event["mean"]) == (
        "rating",
        1,
        [0, 0, 0, 0, 1],
        5.0,
    )
    assert event["version"] == row["version"] == row["published_version"]

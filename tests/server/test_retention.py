"""The retention job: expired refresh tokens and old watch history go; what is still in its
retention period stays; the graph hears of every watch that went."""

from __future__ import annotations

import uuid

import asyncpg
import msgspec
from litestar.testing import AsyncTestClient

from core.settings import Settings
from server.factory import create_app
from server.retention import run_retention_once
from tests.users import login, person, register


async def test_expired_tokens_and_old_watches_are_purged(settings: Settings) -> None:
    async with AsyncTestClient(app=create_app(settings)) as api:
        user = await register(api)
        live_token = (await login(api, user["email"]))["refresh_token"]
        viewer, owner = await person(settings), await person(settings)
        old_video, new_video = [
            (await api.post("/videos", json={"title": title}, headers=owner.headers)).json()["id"]
            for title in ("watched long ago", "watched lately")
        ]
    account = uuid.UUID(user["id"])

    identity = await asyncpg.connect(settings.identity_database_url)
    main = await asyncpg.connect(settings.database_url)
    try:
        await identity.execute(
            "INSERT INTO refresh_tokens (id, family, account, token_hash, expires_at)"
            " VALUES ($1, $2, $3, $4, now() - interval '1 second')",
            uuid.uuid4(),
            uuid.uuid4(),
            account,
            "0" * 64,
        )
        await main.execute(
            "INSERT INTO watches (user_id, video_id, first_watched_at, last_watched_at) VALUES"
            " ($1, $2, now() - interval '400 days', now() - interval '400 days'),"
            " ($1, $3, now() - interval '400 days', now() - interval '10 days')",
            viewer.id,
            uuid.UUID(old_video),
            uuid.UUID(new_video),
        )
        outbox_before = await main.fetchval("SELECT coalesce(max(id), 0) FROM outbox")

        report = await run_retention_once(msgspec.structs.replace(settings, watch_retention_days=365))
        assert report == {"refresh_tokens": 1, "watch_history": 1, "interrupted_registrations": 0}

        assert (
            await identity.fetchval(
                "SELECT count(*) FROM refresh_tokens WHERE account = $1 AND expires_at < now()", account
            )
            == 0
        )
        assert await identity.fetchval("SELECT count(*) FROM refresh_tokens WHERE account = $1", account) == 1
        kept = await main.fetch("SELECT video_id FROM watches WHERE user_id = $1", viewer.id)
        assert [str(r["video_id"]) for r in kept] == [new_video]
        changes = await main.fetch(
            "SELECT convert_from(payload, 'UTF8') AS p FROM outbox WHERE id > $1 AND channel = '@graph'",
            outbox_before,
        )
        assert [msgspec.json.decode(r["p"]) for r in changes] == [
            {"type": "watch", "user_id": str(viewer.id), "video_id": old_video}
        ]
        # Nothing is left to purge: a second run, here or in another process, finds nothing.
        assert await run_retention_once(settings) == {
            "refresh_tokens": 0,
            "watch_history": 0,
            "interrupted_registrations": 0,
        }
    finally:
        await identity.close()
        await main.close()
    async with AsyncTestClient(app=create_app(settings)) as api:
        refreshed = await api.post(
            "/auth/token", data={"grant_type": "refresh_token", "refresh_token": live_token}
        )
        assert refreshed.status_code == 200  # the live login was left alone


async def test_zero_days_keeps_watch_history(settings: Settings) -> None:
    report = await run_retention_once(msgspec.structs.replace(settings, watch_retention_days=0))
    assert report["watch_history"] == 0

"""Readiness of the outbox: an instance says so when what it accepts would reach no one.

A module of its own: a relay leading anywhere on the module's database (the shared ``client``
fixture runs one) would clear what these tests look at."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

from litestar.testing import AsyncTestClient

from app.health.probes import OUTBOX_STALL_SECONDS
from core.db import Database
from realtime.bus.memory import MemoryBus
from realtime.outbox import Relay


async def test_ready_reports_events_that_no_relay_delivers(
    app_client: Callable[..., AsyncTestClient[Any]], db: Database
) -> None:
    """An instance without a relay of its own (or whose relay's leader is gone) accepts writes
    whose events would reach no one: once they wait past the bound with no relay leading anywhere,
    readiness says so. A relay taking the lead clears it."""
    channel = f"video:{uuid.uuid4().hex[:10]}"
    await db.fetch(
        "INSERT INTO outbox (channel, payload, created_at)"
        " VALUES ({}, {}, now() - make_interval(secs => {}))",
        channel,
        b"{}",
        OUTBOX_STALL_SECONDS + 1,
    )
    async with app_client(outbox_relay=False) as client:
        response = await client.get("/health/ready")
        assert response.status_code == 503, response.text
        outbox = response.json()["details"]["backends"]["outbox"]
        assert outbox.startswith("down") and "no relay leads" in outbox, outbox
        bus = MemoryBus()
        relay = asyncio.create_task(Relay(db, bus).run())
        try:
            async with asyncio.timeout(10):
                while (await client.get("/health/ready")).status_code != 200:  # noqa: ASYNC110 - no event to await
                    await asyncio.sleep(0.05)
        finally:
            relay.cancel()
            await asyncio.gather(relay, return_exceptions=True)

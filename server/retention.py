"""The retention job: personal data kept no longer than its purpose needs (docs/privacy.md).

Each purge is a feature's own function that deletes what has outlived its retention and says how
many rows went; this job runs them all at start-up and then every
``MYDRTV_RETENTION_INTERVAL_SECONDS``, in the API process (beside the outbox relay) or once from
``mydrtv privacy retention`` (cron). Every purge is idempotent, so two processes running it at
once only repeat each other's empty second pass. One purge failing is logged and does not stop
the others.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from app.accounts.interrupted import sweep_interrupted_registrations
from app.auth.refresh import RefreshTokens
from app.social.watches import WatchService
from app.videos.service import VideoService
from core.db import Database
from core.settings import Settings

log = logging.getLogger("mydrtv.retention")

Purge = Callable[[], Awaitable[int]]


class RetentionJob:
    def __init__(self, purges: dict[str, Purge], interval_seconds: float) -> None:
        self.purges = purges
        self._interval = interval_seconds

    async def run_once(self) -> dict[str, int]:
        """Run every purge; returns rows purged per purge (-1: that purge failed, see the log)."""
        report: dict[str, int] = {}
        for name, purge in self.purges.items():
            try:
                report[name] = await purge()
            except Exception:
                log.exception("retention purge %s failed; the next run tries again", name)
                report[name] = -1
        log.info("retention purges done", extra={"purged": report})
        return report

    async def run(self) -> None:
        while True:
            await self.run_once()
            await asyncio.sleep(self._interval)


def purges(settings: Settings, main: Database, identity: Database) -> dict[str, Purge]:
    """What is purged. ``interrupted_registrations``: identity accounts that a registration cut
    short left with no public user (``app/accounts/interrupted.py``).

    Client addresses are not here because nothing stores them: the login and registration
    limits' Redis keys expire with their window, and access logs leave the process on stdout,
    whose retention is the operator's.

    Finished exports are not here either: their archives are deleted by the privacy worker's
    sweep (``Exporter.sweep``, before every look for jobs), which holds the storage they are in
    and runs wherever exports are built. Running it here too would only repeat it.
    """
    refresh = RefreshTokens(identity, settings.refresh_token_seconds, settings.refresh_reuse_grace_seconds)
    watches = WatchService(main, VideoService(main))
    return {
        "refresh_tokens": refresh.purge_expired,
        "watch_history": lambda: watches.purge_older_than(settings.watch_retention_days),
        "interrupted_registrations": lambda: sweep_interrupted_registrations(main, identity),
    }


def retention_job(settings: Settings, main: Database, identity: Database) -> RetentionJob:
    return RetentionJob(purges(settings, main, identity), settings.retention_interval_seconds)


async def run_retention_once(settings: Settings) -> dict[str, int]:
    """One pass on databases of its own (``mydrtv privacy retention``)."""
    main = Database("main", settings.database_url)
    identity = Database("identity", settings.identity_database_url)
    await main.start(max_size=2)
    await identity.start(max_size=2)
    try:
        return await retention_job(settings, main, identity).run_once()
    finally:
        await identity.stop()
        await main.stop()

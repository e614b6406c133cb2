"""Erasures replayed after a backup is restored (``mydrtv privacy replay-erasures``).

A backup taken before an erasure and restored after it brings the erased user back: their
sealed fields stay unreadable (their data key was shredded and is in no data backup), but what
is kept in clear comes back with the rows: the display name, which people search needs in
clear, the profile row itself, and in a restored main database the user's public rows. The
receipts (``erasure_receipts``: ids and counts, no personal data) say who was erased; running
every part's ``erase`` again for each of them removes what the restore brought back. Every part
is idempotent, so users the backup did not hold cost only the look.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

import msgspec

from app.privacy.outbox import NotYet
from app.privacy.parts import Registry
from core.db import Database

log = logging.getLogger("mydrtv.privacy")

BATCH = 500


class Replay(msgspec.Struct):
    subjects: int  # users with a receipt that were looked at
    erased_again: dict[str, dict[str, dict[str, int]]]  # user id -> part -> what it erased again
    waiting: dict[str, str]  # user id -> why its replay must run again (outbox rows not relayed yet)


async def _subjects(db: Database, after: uuid.UUID | None, since: datetime | None) -> list[uuid.UUID]:
    conditions: list[str] = []
    args: list[object] = []
    if after is not None:
        conditions.append("subject > {}")
        args.append(after)
    if since is not None:
        conditions.append("erased_at >= {}")
        args.append(since)
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    rows = await db.fetch(
        f"SELECT DISTINCT subject FROM erasure_receipts{where} ORDER BY subject LIMIT {BATCH}", *args
    )
    return [row["subject"] for row in rows]


async def replay_erasures(db: Database, registry: Registry, since: datetime | None = None) -> Replay:
    """Erase again every user with a receipt (erased at or after ``since``, when given: the time
    of the oldest backup restored, as receipts older than it name nobody the backup holds)."""
    report = Replay(subjects=0, erased_again={}, waiting={})
    after: uuid.UUID | None = None
    while subjects := await _subjects(db, after, since):
        for subject in subjects:
            report.subjects += 1
            found: dict[str, dict[str, int]] = {}
            try:
                for part in registry.parts:
                    counts = {kind: n for kind, n in (await part.erase(subject)).items() if n}
                    if counts:
                        found[part.name] = counts
            except NotYet as wait:  # the parts after it need the relay to publish first
                report.waiting[str(subject)] = str(wait)
            if found:
                report.erased_again[str(subject)] = found
                log.info("erased again", extra={"user": str(subject), "counts": found})
        after = subjects[-1]
    return report

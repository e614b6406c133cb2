"""The sweep of registrations cut short: identity accounts with no public user.

Registration writes the identity account, then the main database's ``users`` row
(``app/accounts/service.py``); no transaction spans the two databases, so a process that dies
between them, or a main database that fails there, leaves an account nobody can sign in to,
holding an email and personal data for no purpose. A retry with the same email reclaims it at
once; the retention job deletes the others here, once they are older than any registration can
take (``grace_seconds``). The row goes with its data key, consents and profile (cascade), so
what it sealed is unreadable in every copy too. It also removes the accounts a restored
identity backup brings back for users erased since (their public row is gone).

Registration holds its account's row locked while it writes the public row, and the sweep
passes locked rows by, then looks at the main database again under its own lock: a
registration that finishes meanwhile is never swept.
"""

from __future__ import annotations

import logging
import uuid

from app.identity.store import accounts_older_than, delete_unclaimed
from core.db import Database

log = logging.getLogger("mydrtv.accounts")

GRACE_SECONDS = 600.0  # far longer than a registration takes, the main database's timeouts included
BATCH = 1000


async def sweep_interrupted_registrations(
    main: Database, identity: Database, *, grace_seconds: float = GRACE_SECONDS, batch: int = BATCH
) -> int:
    """Delete identity accounts older than ``grace_seconds`` that have no ``users`` row; how many
    went. Every account is looked at, in batches by id (an indexed look-up in each database)."""

    async def without_user(ids: list[uuid.UUID]) -> list[uuid.UUID]:
        if not ids:
            return []
        present = {row["id"] for row in await main.fetch("SELECT id FROM users WHERE id = ANY({})", ids)}
        return [account for account in ids if account not in present]

    swept = 0
    after = uuid.UUID(int=0)
    while accounts := await accounts_older_than(identity, grace_seconds, after, batch):
        after = accounts[-1]
        if orphans := await without_user(accounts):
            swept += await delete_unclaimed(identity, orphans, without_user)
        if len(accounts) < batch:
            break
    if swept:
        log.info("swept identity accounts of registrations cut short", extra={"accounts": swept})
    return swept

"""Consent to personalization, as the social features apply it (docs/privacy.md, "Consent").

A user who withdrew personalization (``users.personalization``, kept in step with their decision
in the identity database by ``PUT /me/consents``) gets no people-you-may-know and only the
popular videos, the same for everyone; and their own follows, ratings and watches stop feeding
anyone else's suggestions and recommendations. Both are decided when a list is read, so a change
applies to the next request, whatever the graph or a cache still holds.
"""

from __future__ import annotations

import uuid

from core.db import Database


async def personalized(db: Database, user_id: uuid.UUID) -> bool:
    """Whether the user's activity may personalize what they are shown."""
    rows = await db.fetch("SELECT personalization FROM users WHERE id = {}", user_id)
    return bool(rows and rows[0]["personalization"])


async def withdrawn_followees(db: Database, user_id: uuid.UUID) -> list[str]:
    """The people ``user_id`` follows who withdrew personalization: the graph queries, which
    learn from followees' follows, ratings and watches, leave them out."""
    rows = await db.fetch(
        "SELECT f.followee_id FROM follows f JOIN users u ON u.id = f.followee_id"
        " WHERE f.follower_id = {} AND NOT u.personalization",
        user_id,
    )
    return sorted(str(row["followee_id"]) for row in rows)


async def consent_of(db: Database, user_id: uuid.UUID) -> tuple[bool, list[str]]:
    """``personalized`` and ``withdrawn_followees`` in one round trip, for the requests that need
    both on every call (suggestions, recommendations): ``(False, [])`` for an unknown user."""
    rows = await db.fetch(
        "SELECT u.personalization, ARRAY(SELECT f.followee_id FROM follows f"
        " JOIN users w ON w.id = f.followee_id"
        " WHERE f.follower_id = u.id AND NOT w.personalization) AS withdrawn"
        " FROM users u WHERE u.id = {}",
        user_id,
    )
    if not rows:
        return False, []
    return bool(rows[0]["personalization"]), sorted(str(followee) for followee in rows[0]["withdrawn"])

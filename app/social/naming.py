"""Who is behind a recommendation or a suggestion, by name: "Ana, Bo and 2 others rated this 4+".

A person acts on names, not on counts. The graph ranks picks by counts; the people to name are
read from PostgreSQL, the system of record, so someone the viewer muted, blocked or was blocked
by since the graph last heard is never named, nor counted among the others. Up to ``NAMED``
people are named (friends first, then the most recent), by display name or else handle
(``ProfileService.names``); the rest are counted.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import msgspec

from app.profiles.schemas import PersonName
from app.profiles.service import ProfileService
from core.db import Database

NAMED = 3  # people named in an explanation; the rest are "N others"

# The people the viewer follows that an explanation may name: not muted, not blocked either way,
# and not someone who withdrew personalization (their activity feeds no one's picks).
_NAMEABLE = """
followee AS MATERIALIZED (
    SELECT f.followee_id AS id,
           EXISTS (SELECT 1 FROM follows back
                   WHERE back.follower_id = f.followee_id AND back.followee_id = f.follower_id) AS friend
    FROM follows f
    WHERE f.follower_id = {}
      AND NOT EXISTS (SELECT 1 FROM mutes m WHERE m.muter_id = f.follower_id AND m.muted_id = f.followee_id)
      AND NOT EXISTS (SELECT 1 FROM blocks b
                      WHERE (b.blocker_id = f.follower_id AND b.blocked_id = f.followee_id)
                         OR (b.blocker_id = f.followee_id AND b.blocked_id = f.follower_id))
      AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = f.followee_id AND NOT u.personalization)
)"""

# For each picked video, who of those did what its reason says (one row per person and video).
_VIDEO_PEOPLE = f"""
WITH pick AS (SELECT * FROM unnest({{}}::uuid[], {{}}::text[]) AS p(video_id, reason)),
{_NAMEABLE},
act AS (
    SELECT r.video_id, r.user_id, true AS rated, r.updated_at AS at FROM ratings r
    WHERE r.video_id IN (SELECT video_id FROM pick) AND r.stars >= {{}}
      AND r.user_id IN (SELECT id FROM followee)
    UNION ALL
    SELECT w.video_id, w.user_id, false, w.last_watched_at FROM watches w
    WHERE w.video_id IN (SELECT video_id FROM pick) AND w.user_id IN (SELECT id FROM followee)
)
SELECT p.video_id AS key, a.user_id AS person, bool_or(f.friend) AS friend, max(a.at) AS at
FROM pick p
JOIN act a ON a.video_id = p.video_id
JOIN followee f ON f.id = a.user_id
WHERE CASE p.reason
    WHEN 'trending_among_friends' THEN f.friend AND a.at >= {{}}
    WHEN 'rated_by_friends' THEN f.friend AND a.rated
    WHEN 'rated_by_following' THEN a.rated
    WHEN 'watched_by_friends' THEN f.friend AND NOT a.rated
    WHEN 'watched_by_following' THEN NOT a.rated
    ELSE false
END
GROUP BY p.video_id, a.user_id
"""

# For each suggested person, who of the viewer's nameable followees follows them.
_FOLLOWERS_YOU_FOLLOW = f"""
WITH {_NAMEABLE}
SELECT t.followee_id AS key, t.follower_id AS person, f.friend, t.created_at AS at
FROM follows t
JOIN followee f ON f.id = t.follower_id
WHERE t.followee_id = ANY({{}})
"""


class Named(msgspec.Struct, frozen=True):
    """The people named in one explanation, and how many more are behind it."""

    people: list[PersonName]
    others: int

    def sentence(self) -> str:
        """The people as a phrase: "Ana", "Ana and Bo", "Ana, Bo and Cy", "Ana and 2 others",
        "Ana, Bo, Cy and 1 other"."""
        names = [person.display_name or person.handle for person in self.people]
        if self.others:
            names.append(f"{self.others} {'other' if self.others == 1 else 'others'}")
        if len(names) <= 1:
            return "".join(names)
        return f"{', '.join(names[:-1])} and {names[-1]}"


class Naming:
    def __init__(self, db: Database, profiles: ProfileService) -> None:
        self._db = db
        self._profiles = profiles

    async def video_people(
        self, viewer: uuid.UUID, reasons: Mapping[uuid.UUID, str], stars: int, since: datetime
    ) -> dict[uuid.UUID, Named]:
        """Who to name for each video picked for ``reasons`` (video id -> reason); videos with
        nobody nameable are left out."""
        if not reasons:
            return {}
        rows = await self._db.fetch(
            _VIDEO_PEOPLE, list(reasons), list(reasons.values()), viewer, stars, since
        )
        return await self._named(rows)

    async def followers_you_follow(
        self, viewer: uuid.UUID, people: list[uuid.UUID]
    ) -> dict[uuid.UUID, Named]:
        """Who of the people ``viewer`` follows follows each of ``people``."""
        if not people:
            return {}
        return await self._named(await self._db.fetch(_FOLLOWERS_YOU_FOLLOW, viewer, people))

    async def _named(self, rows: list[dict[str, Any]]) -> dict[uuid.UUID, Named]:
        by_key: dict[uuid.UUID, list[_Behind]] = defaultdict(list)
        for row in msgspec.convert(rows, list[_Behind]):
            by_key[row.key].append(row)
        chosen: dict[uuid.UUID, list[uuid.UUID]] = {}
        for key, behind in by_key.items():
            behind.sort(key=lambda row: (not row.friend, -row.at.timestamp(), str(row.person)))
            chosen[key] = [row.person for row in behind[:NAMED]]
        names = await self._profiles.names([person for people in chosen.values() for person in people])
        return {
            key: Named(
                people=[names[person] for person in people if person in names],
                others=len(by_key[key]) - len(people),
            )
            for key, people in chosen.items()
        }


class _Behind(msgspec.Struct, frozen=True):
    """One person behind one pick: ``key`` is the video or the suggested person."""

    key: uuid.UUID
    person: uuid.UUID
    friend: bool
    at: datetime

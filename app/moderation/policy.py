"""Who may post what, right now: restrictions, slow mode, held words and posting rates.

One query gathers what applies to a user on a video (their strictest live restriction, the
video's slow mode, the held-word lists), so posting a comment costs one round trip here.
Moderators and admins are exempt from slow mode and held words, not from restrictions; and a
restriction in force (any timeout or ban) takes a moderator's moderation powers with it.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from app.moderation.throttle import Throttle, one_per, rule
from app.videos.service import STAFF
from core.db import Database
from core.errors import Forbidden
from core.tokens import Principal

_CONTEXT = """
SELECT r.kind, r.ends_at, r.video_id AS restricted_on, r.reason,
       EXTRACT(EPOCH FROM r.ends_at - now()) AS remaining,
       COALESCE((SELECT slow_mode_seconds FROM video_moderation WHERE video_id = {}), 0) AS slow_mode,
       ARRAY(SELECT word FROM held_words WHERE video_id IS NULL OR video_id = {}) AS words
FROM (SELECT 1) AS one
LEFT JOIN LATERAL (
    SELECT kind, ends_at, video_id, reason FROM moderation_restrictions
    WHERE user_id = {} AND lifted_at IS NULL AND (video_id IS NULL OR video_id = {})
      AND (ends_at IS NULL OR ends_at > now())
    ORDER BY kind = 'ban' DESC, ends_at DESC NULLS FIRST
    LIMIT 1
) AS r ON true
"""

_BAN = """
SELECT kind, ends_at, video_id AS restricted_on, reason, EXTRACT(EPOCH FROM ends_at - now()) AS remaining
FROM moderation_restrictions
WHERE user_id = {} AND kind = 'ban' AND lifted_at IS NULL AND (video_id IS NULL OR video_id = {})
  AND (ends_at IS NULL OR ends_at > now())
ORDER BY ends_at DESC NULLS FIRST
LIMIT 1
"""


_RESTRICTED = """
SELECT kind, ends_at, video_id AS restricted_on, reason, EXTRACT(EPOCH FROM ends_at - now()) AS remaining
FROM moderation_restrictions
WHERE user_id = {} AND lifted_at IS NULL AND (ends_at IS NULL OR ends_at > now())
ORDER BY kind = 'ban' DESC, ends_at DESC NULLS FIRST
LIMIT 1
"""


def contains_held_word(words: Sequence[str], text: str) -> bool:
    """Whole-word (or whole-phrase), case-insensitive: "ass" holds "ass!" but not "class"."""
    if not words:
        return False
    pattern = r"(?<!\w)(?:" + "|".join(re.escape(w.casefold()) for w in words) + r")(?!\w)"
    return re.search(pattern, text.casefold()) is not None


def _refuse(row: dict[str, Any], note: str = "") -> None:
    """403 naming the restriction and how long it has left (null: until a moderator lifts it)."""
    remaining = None if row["ends_at"] is None else max(1, math.ceil(float(row["remaining"])))
    until: datetime | None = row["ends_at"]
    where = "on this video" if row["restricted_on"] else "everywhere"
    if row["kind"] == "ban":
        code, what = "banned", f"you are banned {where}"
    else:
        code, what = "timed_out", f"you are timed out {where}"
    left = "until a moderator lifts it" if remaining is None else f"for another {remaining} s"
    raise Forbidden(
        f"{what} {left}{note}",
        code=code,
        details={
            "remaining_seconds": remaining,
            "until": until.isoformat() if until else None,
            "scope": "video" if row["restricted_on"] else "everywhere",
            "reason": row["reason"],
        },
    )


class ModerationPolicy:
    def __init__(self, db: Database, throttle: Throttle, comment_rate: str) -> None:
        self._db = db
        self._throttle = throttle
        self._comment_rate = rule(comment_rate)

    async def may_comment(
        self, author: Principal, video_id: uuid.UUID, text: str, *, new: bool = True
    ) -> bool:
        """Raise unless ``author`` may post (or, ``new=False``, edit) ``text`` on the video now;
        returns whether the comment must be held for review."""
        (row,) = await self._db.fetch(_CONTEXT, video_id, video_id, author.id, video_id)
        if row["kind"] is not None:
            _refuse(row)
        await self._throttle.hit(
            self._comment_rate,
            "comment",
            str(author.id),
            code="too_fast",
            message="too many comments; wait a little",
        )
        if author.has_role(*STAFF):
            return False
        if new and row["slow_mode"] > 0:
            await self._throttle.hit(
                one_per(row["slow_mode"]),
                "slow",
                str(video_id),
                str(author.id),
                code="slow_mode",
                message=f"slow mode: one comment every {row['slow_mode']} s on this video",
            )
        return contains_held_word(row["words"], text)

    async def may_moderate(self, user: Principal) -> None:
        """Raise unless ``user`` is staff and under no restriction in force, on any video: a
        timed-out or banned moderator cannot moderate (nor lift their own restriction)."""
        if not user.has_role(*STAFF):
            raise Forbidden(f"this needs the role {' or '.join(STAFF)}", code="forbidden_role")
        rows = await self._db.fetch(_RESTRICTED, user.id)
        if rows:
            _refuse(rows[0], "; moderation needs an account under no restriction")

    async def may_participate(self, user: Principal, video_id: uuid.UUID) -> None:
        """A ban (on this video or everywhere) also stops rating and reporting; a timeout does not."""
        rows = await self._db.fetch(_BAN, user.id, video_id)
        if rows:
            _refuse(rows[0])

"""The audit log: every moderation action, who took it, on what, when and why.

Written inside the transaction of the action itself, so the log and the state never disagree.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

import msgspec

from core.db import Database
from core.tokens import Principal

Action = Literal[
    "comment.remove",  # a visible comment taken down
    "comment.reject",  # a held comment refused
    "comment.approve",  # a held comment let through, or a reported one cleared
    "restriction.add",  # a timeout or a ban
    "restriction.lift",
    "slow_mode.set",
    "held_word.add",
    "held_word.remove",
    "role.grant",  # a user's role raised (details: old_role, new_role)
    "role.revoke",  # a user's role lowered
    "user.erase",  # an admin erased an account (the entry keeps no id of the user once erased)
    "user.export",  # an admin had a user's data exported
]


async def log(
    db: Database,
    actor: Principal,
    action: Action,
    *,
    reason: str = "",
    video_id: uuid.UUID | None = None,
    comment_id: int | None = None,
    target_user_id: uuid.UUID | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    await db.fetch(
        "INSERT INTO moderation_log (actor_id, action, video_id, comment_id, target_user_id, reason, details)"
        " VALUES ({}, {}, {}, {}, {}, {}, {}::jsonb)",
        actor.id,
        action,
        video_id,
        comment_id,
        target_user_id,
        reason,
        msgspec.json.encode(details or {}).decode(),
    )

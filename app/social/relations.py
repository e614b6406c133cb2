"""Follows, blocks and mutes: the rules, written to PostgreSQL with their graph changes.

PostgreSQL is the system of record. Each change is one transaction that also queues the graph
change (``@graph``) and, for a new follow, the "followed" activity, so the graph and the feed
hear of exactly the changes that committed.

A block removes the follows between the two users both ways and hides each from the other in
every list. A mute is one-sided and quiet: the muted user's activity leaves the muter's feed,
suggestions and recommendations, and nothing tells the muted user.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from app.feed.activity import record
from app.notifications.notify import notify, retract
from app.notifications.schemas import KINDS
from app.social.schemas import Connection, ConnectionPage, Relationship
from app.videos.schemas import UserRef
from core.db import Database
from core.errors import BadRequest, Conflict, Forbidden, NotFound
from core.pagination import Keyset, page_rows
from core.tokens import Principal
from graph.events import BlockChanged, FollowChanged, MuteChanged, enqueue_change

# Leaves out users (``u``) the viewer blocked or who blocked the viewer; takes the viewer twice.
NOT_BLOCKED = (
    "NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.blocker_id = {} AND b.blocked_id = u.id)"
    " OR (b.blocker_id = u.id AND b.blocked_id = {}))"
)
PUBLIC_LISTS = ("followers", "following", "friends")
OWN_LISTS = ("blocks", "mutes")  # readable by their owner only

_LISTS = {
    # list name: (FROM ... JOIN users u, WHERE on the listed user's id, the time column)
    "followers": ("follows x JOIN users u ON u.id = x.follower_id", "x.followee_id = {}", "x.created_at"),
    "following": ("follows x JOIN users u ON u.id = x.followee_id", "x.follower_id = {}", "x.created_at"),
    "friends": (
        "follows x JOIN follows y ON y.follower_id = x.followee_id AND y.followee_id = x.follower_id"
        " JOIN users u ON u.id = x.followee_id",
        "x.follower_id = {}",
        "greatest(x.created_at, y.created_at)",
    ),
    "blocks": ("blocks x JOIN users u ON u.id = x.blocked_id", "x.blocker_id = {}", "x.created_at"),
    "mutes": ("mutes x JOIN users u ON u.id = x.muted_id", "x.muter_id = {}", "x.created_at"),
}


class SocialService:
    def __init__(self, db: Database, on_change: Callable[[uuid.UUID], Awaitable[None]] | None = None) -> None:
        self._db = db
        self._on_change = on_change  # told whose own relations changed (the suggestions cache)

    async def _user(self, user_id: uuid.UUID) -> UserRef:
        rows = await self._db.fetch("SELECT id, handle FROM users WHERE id = {}", user_id)
        if not rows:
            raise NotFound("no such user", code="user_not_found")
        return UserRef(id=rows[0]["id"], handle=rows[0]["handle"])

    async def _lock_pair(self, a: uuid.UUID, b: uuid.UUID) -> None:
        """Serialise follows and blocks between the same two users (a follow racing a block)."""
        low, high = sorted((str(a), str(b)))
        await self._db.fetch("SELECT pg_advisory_xact_lock(hashtextextended({}, 0))", low + high)

    async def _blocked(self, blocker: uuid.UUID, blocked: uuid.UUID) -> bool:
        rows = await self._db.fetch(
            "SELECT 1 FROM blocks WHERE blocker_id = {} AND blocked_id = {}", blocker, blocked
        )
        return bool(rows)

    async def _between(self, a: uuid.UUID, b: uuid.UUID) -> bool:
        """Whether either of the two blocked the other."""
        return await self._blocked(a, b) or await self._blocked(b, a)

    async def _changed(self, *user_ids: uuid.UUID) -> None:
        if self._on_change is not None:
            for user_id in user_ids:
                await self._on_change(user_id)

    # Follows ---------------------------------------------------------------------------------

    async def follow(self, actor: Principal, user_id: uuid.UUID) -> None:
        """Follow ``user_id``; following someone already followed changes nothing."""
        if user_id == actor.id:
            raise BadRequest("you cannot follow yourself", code="cannot_follow_self")
        await self._user(user_id)
        async with self._db.engine.transaction():
            await self._lock_pair(actor.id, user_id)
            if await self._blocked(user_id, actor.id):
                raise Forbidden("this user has blocked you", code="blocked_by_user")
            if await self._blocked(actor.id, user_id):
                raise Conflict("you have blocked this user; unblock them first", code="user_blocked")
            added = await self._db.fetch(
                "INSERT INTO follows (follower_id, followee_id) VALUES ({}, {})"
                " ON CONFLICT DO NOTHING RETURNING created_at",
                actor.id,
                user_id,
            )
            if added:
                await enqueue_change(self._db, FollowChanged(str(actor.id), str(user_id)))
                await record(self._db, actor.id, "followed", subject_id=user_id)
                back = await self._db.fetch(
                    "SELECT 1 FROM follows WHERE follower_id = {} AND followee_id = {}", user_id, actor.id
                )
                await notify(self._db, user_id, "friend" if back else "follow", actor_id=actor.id)
        await self._changed(actor.id)

    async def unfollow(self, actor: Principal, user_id: uuid.UUID) -> None:
        async with self._db.engine.transaction():
            await self._remove_follow(actor.id, user_id)
        await self._changed(actor.id)

    async def _remove_follow(self, follower: uuid.UUID, followee: uuid.UUID) -> None:
        """Delete a follow with its "followed" activity (no longer true); inside a transaction."""
        removed = await self._db.fetch(
            "DELETE FROM follows WHERE follower_id = {} AND followee_id = {} RETURNING 1", follower, followee
        )
        if removed:
            await enqueue_change(self._db, FollowChanged(str(follower), str(followee)))
            await self._db.fetch(
                "DELETE FROM activities WHERE actor_id = {} AND verb = 'followed' AND subject_id = {}",
                follower,
                followee,
            )
            # Undone before it was read: the follow leaves the followee's unread notification.
            await retract(self._db, ("follow", "friend"), actor_ids=[follower], recipient_ids=[followee])

    # Blocks and mutes --------------------------------------------------------------------------

    async def block(self, actor: Principal, user_id: uuid.UUID) -> None:
        """Block ``user_id``: no follows either way from now on, and each hidden from the other."""
        if user_id == actor.id:
            raise BadRequest("you cannot block yourself", code="cannot_block_self")
        await self._user(user_id)
        async with self._db.engine.transaction():
            await self._lock_pair(actor.id, user_id)
            added = await self._db.fetch(
                "INSERT INTO blocks (blocker_id, blocked_id) VALUES ({}, {})"
                " ON CONFLICT DO NOTHING RETURNING 1",
                actor.id,
                user_id,
            )
            if added:
                await enqueue_change(self._db, BlockChanged(str(actor.id), str(user_id)))
                # Each leaves the other's notifications, read or not.
                await retract(
                    self._db, KINDS, actor_ids=[user_id], recipient_ids=[actor.id], unread_only=False
                )
                await retract(
                    self._db, KINDS, actor_ids=[actor.id], recipient_ids=[user_id], unread_only=False
                )
            await self._remove_follow(actor.id, user_id)
            await self._remove_follow(user_id, actor.id)
        await self._changed(actor.id, user_id)

    async def unblock(self, actor: Principal, user_id: uuid.UUID) -> None:
        """Lift a block; follows it removed stay removed."""
        async with self._db.engine.transaction():
            removed = await self._db.fetch(
                "DELETE FROM blocks WHERE blocker_id = {} AND blocked_id = {} RETURNING 1", actor.id, user_id
            )
            if removed:
                await enqueue_change(self._db, BlockChanged(str(actor.id), str(user_id)))
        await self._changed(actor.id, user_id)

    async def mute(self, actor: Principal, user_id: uuid.UUID) -> None:
        if user_id == actor.id:
            raise BadRequest("you cannot mute yourself", code="cannot_mute_self")
        await self._user(user_id)
        async with self._db.engine.transaction():
            added = await self._db.fetch(
                "INSERT INTO mutes (muter_id, muted_id) VALUES ({}, {}) ON CONFLICT DO NOTHING RETURNING 1",
                actor.id,
                user_id,
            )
            if added:
                await enqueue_change(self._db, MuteChanged(str(actor.id), str(user_id)))
        await self._changed(actor.id)

    async def unmute(self, actor: Principal, user_id: uuid.UUID) -> None:
        async with self._db.engine.transaction():
            removed = await self._db.fetch(
                "DELETE FROM mutes WHERE muter_id = {} AND muted_id = {} RETURNING 1", actor.id, user_id
            )
            if removed:
                await enqueue_change(self._db, MuteChanged(str(actor.id), str(user_id)))
        await self._changed(actor.id)

    # Reading -------------------------------------------------------------------------------------

    async def relationship(self, actor: Principal, user_id: uuid.UUID) -> Relationship:
        user = await self._user(user_id)
        if await self._blocked(user_id, actor.id):
            raise NotFound("no such user", code="user_not_found")
        me, them = actor.id, user_id
        rows = await self._db.fetch(
            "SELECT EXISTS (SELECT 1 FROM follows WHERE follower_id = {} AND followee_id = {}) AS following,"
            " EXISTS (SELECT 1 FROM follows WHERE follower_id = {} AND followee_id = {}) AS followed_by,"
            " EXISTS (SELECT 1 FROM blocks WHERE blocker_id = {} AND blocked_id = {}) AS blocking,"
            " EXISTS (SELECT 1 FROM mutes WHERE muter_id = {} AND muted_id = {}) AS muting",
            *(me, them, them, me, me, them, me, them),
        )
        row = rows[0]
        return Relationship(
            user=user,
            following=row["following"],
            followed_by=row["followed_by"],
            friends=row["following"] and row["followed_by"],
            blocking=row["blocking"],
            muting=row["muting"],
        )

    async def people(
        self,
        kind: str,
        user_id: uuid.UUID,
        viewer: Principal | None,
        cursor: str | None,
        limit: int,
    ) -> ConnectionPage:
        """One page of a list (``followers``, ``following``, ``friends``; a user's own ``blocks`` and
        ``mutes``) of ``user_id``, newest first. In the public lists a viewer never sees users they
        blocked or who blocked them, and such a user's lists are 404 to them."""
        await self._user(user_id)
        if viewer is not None and viewer.id != user_id and await self._between(viewer.id, user_id):
            raise NotFound("no such user", code="user_not_found")
        source, owner, since = _LISTS[kind]
        conditions = [owner]
        values: list[Any] = [user_id]
        if viewer is not None and kind in PUBLIC_LISTS:
            conditions.append(NOT_BLOCKED)
            values += [viewer.id, viewer.id]
        select = f"SELECT u.id, u.handle, {since} AS since FROM {source}"
        newest = Keyset((since, "u.id"), ("since", "id"), tuple[datetime, uuid.UUID])
        rows, next_cursor = await page_rows(self._db, select, conditions, values, newest, cursor, limit)
        return ConnectionPage(items=[_connection(row) for row in rows], next_cursor=next_cursor)


def _connection(row: dict[str, Any]) -> Connection:
    return Connection(user=UserRef(id=row["id"], handle=row["handle"]), since=row["since"])

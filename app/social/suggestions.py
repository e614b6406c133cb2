"""People you may know: friends of friends from the graph, checked against PostgreSQL.

The graph ranks candidates (``graph.queries.PEOPLE_YOU_MAY_KNOW``); the ranking is cached
briefly per user because it changes slowly and costs a traversal. The graph is a projection that
may lag a moment behind, so every answer is then filtered against the system of record: someone
the user just followed, blocked, muted or dismissed, or who just blocked them, never shows.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import msgspec

from app.social.consent import withdrawn_followees
from app.social.graph_reads import graph_needed, run_read
from app.social.naming import Named, Naming
from app.social.rankings import HEAVY_PATHS, consent_and_ranking
from app.social.schemas import PersonSuggestion
from app.videos.schemas import UserRef
from core.db import Database
from core.errors import BadRequest, NotFound
from core.tokens import Principal
from graph import queries
from graph.base import Graph
from graph.events import DismissalChanged, enqueue_change

CANDIDATES = 60  # ranked per user and cached; more than the largest page, for what the filter drops
# Friend-of-friend paths the graph counts per live read, at most (when no stored ranking is usable,
# app/social/rankings.py): users with fewer paths (most) get the exact ranking live, heavier users
# a bounded one until theirs is stored (docs/architecture.md, "People you may know").
PATH_BUDGET = HEAVY_PATHS

_STILL_SUGGESTIBLE = """
SELECT u.id, u.handle FROM users u
WHERE u.id = ANY({}) AND u.id <> {}
  AND NOT EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = {} AND f.followee_id = u.id)
  AND NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.blocker_id = {} AND b.blocked_id = u.id)
                                           OR (b.blocker_id = u.id AND b.blocked_id = {}))
  AND NOT EXISTS (SELECT 1 FROM mutes m WHERE m.muter_id = {} AND m.muted_id = u.id)
  AND NOT EXISTS (SELECT 1 FROM suggestion_dismissals d WHERE d.user_id = {} AND d.dismissed_id = u.id)
"""


def _explain(mutual: int) -> str:
    return f"followed by {mutual} {'person' if mutual == 1 else 'people'} you follow"


def explain_named(named: Named) -> str:
    """The sentence that names them: "followed by Ana, Bo, Cy and 2 others you follow", or
    "followed by Ana and Bo, whom you follow" when all are named."""
    if named.others:
        return f"followed by {named.sentence()} you follow"
    return f"followed by {named.sentence()}, whom you follow"


class PeopleSuggestions:
    def __init__(
        self,
        db: Database,
        graph: Graph | None,
        cache_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        naming: Naming | None = None,
        path_budget: int = PATH_BUDGET,
    ) -> None:
        self._db = db
        self._naming = naming  # without it, explanations give counts
        self._graph = graph
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._path_budget = path_budget
        self._cache: dict[uuid.UUID, tuple[float, list[str], list[dict[str, Any]]]] = {}

    async def ranked(self, user_id: uuid.UUID) -> list[dict[str, Any]]:
        """The graph's ranking for ``user_id`` (id, mutual, followers), from the cache when fresh
        and made with the same followees' consent (a withdrawal applies at once)."""
        return await self._ranked(user_id, await withdrawn_followees(self._db, user_id))

    async def _ranked(self, user_id: uuid.UUID, withdrawn: list[str]) -> list[dict[str, Any]]:
        now = self._clock()
        cached = self._cache.get(user_id)
        if cached is not None and cached[0] > now and cached[1] == withdrawn:
            return cached[2]
        rows = await run_read(
            self._graph,
            queries.PEOPLE_YOU_MAY_KNOW,
            user=str(user_id),
            limit=CANDIDATES,
            withdrawn=withdrawn,
            paths=self._path_budget,
        )
        if not rows:  # cost the graph nothing; kept, it would hide a new user's first candidates
            return rows
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[user_id] = (now + self._cache_seconds, withdrawn, rows)
        return rows

    async def forget(self, user_id: uuid.UUID) -> None:
        """Drop a user's cached ranking (their own relations changed)."""
        self._cache.pop(user_id, None)

    async def suggest(self, me: Principal, limit: int) -> list[PersonSuggestion]:
        """Nothing for a user who withdrew personalization: the suggestions are made of their follows.
        The stored ranking (app/social/rankings.py) comes in the same round trip as their consent;
        without a usable one, the graph ranks live."""
        graph_needed(self._graph)  # a server without a graph has no suggestions to make
        state = await consent_and_ranking(self._db, me.id, "people")
        if not state.personal:
            return []
        ranked = state.ranking if state.ranking is not None else await self._ranked(me.id, state.withdrawn)
        if not ranked:
            return []
        ids = [uuid.UUID(row["id"]) for row in ranked]
        handles = {
            row["id"]: row["handle"] for row in await self._db.fetch(_STILL_SUGGESTIBLE, ids, *([me.id] * 6))
        }
        suggestions = [
            PersonSuggestion(
                user=UserRef(id=user_id, handle=handles[user_id]),
                mutual_follows=int(row["mutual"]),
                followers=int(row["followers"]),
                explanation=_explain(int(row["mutual"])),
            )
            for user_id, row in zip(ids, ranked, strict=True)
            if user_id in handles
        ]
        return await self._named(me, suggestions[:limit])

    async def _named(self, me: Principal, suggestions: list[PersonSuggestion]) -> list[PersonSuggestion]:
        """Each suggestion with the people the user follows who follow them named."""
        if self._naming is None:
            return suggestions
        named = await self._naming.followers_you_follow(me.id, [s.user.id for s in suggestions])
        return [
            msgspec.structs.replace(
                suggestion,
                explanation=explain_named(named[suggestion.user.id]),
                people=named[suggestion.user.id].people,
                others=named[suggestion.user.id].others,
            )
            if suggestion.user.id in named and named[suggestion.user.id].people
            else suggestion
            for suggestion in suggestions
        ]

    async def dismiss(self, me: Principal, user_id: uuid.UUID) -> None:
        """Never suggest ``user_id`` to ``me`` again."""
        if user_id == me.id:
            raise BadRequest("you are never suggested to yourself", code="cannot_dismiss_self")
        if not await self._db.fetch("SELECT 1 FROM users WHERE id = {}", user_id):
            raise NotFound("no such user", code="user_not_found")
        async with self._db.engine.transaction():
            added = await self._db.fetch(
                "INSERT INTO suggestion_dismissals (user_id, dismissed_id) VALUES ({}, {})"
                " ON CONFLICT DO NOTHING RETURNING 1",
                me.id,
                user_id,
            )
            if added:
                await enqueue_change(self._db, DismissalChanged(str(me.id), str(user_id)))

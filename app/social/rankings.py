"""Stored exact rankings, computed in the background and read with the user's consent.

A graph read costs what it counts, and a request that reads the graph pays the graph server's
round trip as well: tens of milliseconds for a user whose friends of friends run to thousands of
paths, and on Neo4j a few milliseconds of tail even for a small one. So every user who follows
someone has their exact rankings (people you may know, social video picks) computed here,
outside any request, and stored in ``precomputed_rankings``; the endpoints read them in the round
trip that reads the user's consent (``consent_and_ranking``) and filter them against the system of
record as they do a live ranking. A user who follows nobody has nothing to rank: no graph read.

A ranking is recomputed when the user's own relations change (``changed``, after the projection
of the change). Other people's activity makes it stale: a followee's new follow (people), a
followee's rating or watch, or a new fan (videos) mark it (``stale_at``), and the sweep recomputes
stale rankings, oldest first. Until then a light user's stale ranking is not served: the live
graph read, exact within ``HEAVY_PATHS``, answers instead; a heavy user's is served, as their live
read would be bounded. Every ranking is also recomputed once older than ``refresh_seconds``
(``run``'s passes, which also drop rows of users who follow nobody any more): what no event marks
(a candidate's follower count, the week that makes activity recent) is at most that old.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import msgspec

from app.social.consent import consent_of
from core.db import Database
from graph import queries
from graph.base import Graph, GraphUnavailable
from graph.events import (
    BlockChanged,
    DismissalChanged,
    FollowChanged,
    GraphChange,
    MuteChanged,
    RatingChanged,
    WatchChanged,
    decoder,
)
from graph.projector import Projector

log = logging.getLogger("mydrtv.rankings")

Kind = Literal["people", "videos"]

# Friend-of-friend paths (people) or followees' 4+ ratings and watches (videos) beyond which a
# user is heavy: the live queries count at most this many (their ``PATH_BUDGET``), so a heavy user
# whose ranking is not stored yet still gets a bounded answer in bounded time.
HEAVY_PATHS = 300
# Users with more paths than this have their rankings stored: by default every user who follows
# someone (``MYDRTV_RANKINGS_ABOVE_PATHS``; ``HEAVY_PATHS`` stores heavy users' only).
STORE_ABOVE_PATHS = -1
PEOPLE_CANDIDATES = 60  # as app.social.suggestions.CANDIDATES
VIDEO_CANDIDATES = 110  # what the largest page (50) asks the graph for: 2 * 50 + 10
STARS = 4  # as app.social.recommendations.GOOD_STARS
TRENDING_SECONDS = 7 * 86_400  # as app.social.recommendations.TRENDING_DAYS
UNBOUNDED = 2**31 - 1  # a path budget no user reaches: the exact ranking

# Paths per user, counted in PostgreSQL (the system of record): for every user who allows
# personalization in one pass over the table (the background pass), or for one user through the
# indexes (after a change of theirs). Arguments: (the user,) the threshold.
_PER_FOLLOWEE: dict[Kind, str] = {
    "people": "(SELECT count(*) FROM follows x WHERE x.follower_id = f.followee_id)",
    "videos": "(SELECT count(*) FROM ratings r WHERE r.user_id = f.followee_id AND r.stars >= 4)"
    " + (SELECT count(*) FROM watches w WHERE w.user_id = f.followee_id)",
}
_ALL_USERS: dict[Kind, str] = {
    "people": "SELECT follower_id AS id, count(*) AS n FROM follows GROUP BY follower_id",
    "videos": "SELECT user_id AS id, count(*) AS n FROM ("
    "SELECT user_id FROM ratings WHERE stars >= 4 UNION ALL SELECT user_id FROM watches) s GROUP BY user_id",
}


def paths_sql(kind: Kind, *, one_user: bool) -> str:
    """Users (one, or every one who allows personalization) with more paths than the threshold."""
    if one_user:
        return (
            f"SELECT f.follower_id AS user_id, sum(c.n)::bigint AS paths FROM follows f"
            f" CROSS JOIN LATERAL (SELECT {_PER_FOLLOWEE[kind]} AS n) c"
            " WHERE f.follower_id = {} GROUP BY f.follower_id HAVING sum(c.n) > {}"
        )
    return (
        f"WITH out AS ({_ALL_USERS[kind]})"
        " SELECT f.follower_id AS user_id, coalesce(sum(out.n), 0)::bigint AS paths"
        " FROM follows f LEFT JOIN out ON out.id = f.followee_id"
        " JOIN users u ON u.id = f.follower_id AND u.personalization"
        " GROUP BY f.follower_id HAVING coalesce(sum(out.n), 0) > {}"
    )


@dataclass
class Precomputed:
    """What a request reads in its first round trip: consent, and the stored ranking if usable."""

    personal: bool
    withdrawn: list[str]
    ranking: list[dict[str, Any]] | None  # None: rank live


async def consent_and_ranking(db: Database, user_id: uuid.UUID, kind: Kind) -> Precomputed:
    """``consent_of`` and the user's stored ranking of ``kind`` in one round trip. The ranking is
    returned only if the user allows personalization, it was made with today's withdrawn
    followees (a withdrawal applies at once) and it is fresh, or stale but a heavy user's (their
    live read would be bounded). A user who follows nobody has an empty ranking: nothing to ask
    the graph."""
    rows = await db.fetch(
        "SELECT u.personalization, ARRAY(SELECT f.followee_id FROM follows f"
        " JOIN users w ON w.id = f.followee_id"
        " WHERE f.follower_id = u.id AND NOT w.personalization) AS withdrawn,"
        " EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = u.id) AS follows_anyone,"
        " r.ranking::text AS ranking, r.withdrawn AS ranked_withdrawn,"
        " r.stale_at IS NOT NULL AND r.paths <= {} AS stale"
        " FROM users u LEFT JOIN precomputed_rankings r ON r.user_id = u.id AND r.kind = {}"
        " WHERE u.id = {}",
        HEAVY_PATHS,
        kind,
        user_id,
    )
    if not rows:
        return Precomputed(False, [], None)
    row = rows[0]
    withdrawn = sorted(str(followee) for followee in row["withdrawn"])
    personal = bool(row["personalization"])
    if personal and not row["follows_anyone"]:
        return Precomputed(personal, withdrawn, [])
    usable = (
        personal
        and row["ranking"] is not None
        and not row["stale"]
        and sorted(row["ranked_withdrawn"]) == withdrawn
    )
    ranking = msgspec.json.decode(row["ranking"]) if usable else None
    return Precomputed(personal, withdrawn, ranking)


@dataclass
class PassReport:
    users: int  # users whose rankings were computed
    dropped: int  # rows of users no longer stored
    seconds: float


# Whose stored rankings a change makes stale: the change's kind, the rankings' kind, and who (the
# followers of its user, or the user themselves). Arguments: the rankings' kind, the user.
_FOLLOWERS_STALE = (
    "UPDATE precomputed_rankings r SET stale_at = clock_timestamp() FROM follows f"
    " WHERE f.followee_id = {} AND r.user_id = f.follower_id AND r.kind = {}"
)
_ONE_STALE = "UPDATE precomputed_rankings SET stale_at = clock_timestamp() WHERE user_id = {} AND kind = {}"
SWEEP_BATCH = 100  # stale rankings recomputed per turn of the sweep
SWEEP_SECONDS = 5.0  # how often the sweep looks for stale rankings when nothing in this process woke it


class PrecomputedRankings:
    """Computes and stores users' exact rankings: ``mydrtv serve`` runs ``run`` beside the outbox
    relay (``MYDRTV_RANKINGS_WORKER``), and ``changed`` after each projection."""

    def __init__(
        self,
        db: Database,
        graph: Graph,
        *,
        above_paths: int = STORE_ABOVE_PATHS,
        refresh_seconds: float = 3600.0,
        sweep_seconds: float = SWEEP_SECONDS,
        clock: Any = time.time,
    ) -> None:
        self._db = db
        self._graph = graph
        self.above_paths = above_paths  # users with more paths than this have rankings stored
        self.refresh_seconds = refresh_seconds
        self.sweep_seconds = sweep_seconds
        self._clock = clock
        self._stale = asyncio.Event()  # set when this process marked rankings stale
        # Whether this process does the jobs' work now: set to the outbox relay's lead by the
        # factory, so that of many processes with the jobs on, one works at a time.
        self.active: Callable[[], bool] = lambda: True

    async def compute(self, user_id: uuid.UUID, kind: Kind, withdrawn: list[str]) -> list[dict[str, Any]]:
        """The exact ranking of ``kind`` for ``user_id``: the live query with no path budget."""
        if kind == "people":
            return await self._graph.run(
                queries.PEOPLE_YOU_MAY_KNOW,
                user=str(user_id),
                limit=PEOPLE_CANDIDATES,
                withdrawn=withdrawn,
                paths=UNBOUNDED,
            )
        return await self._graph.run(
            queries.SOCIAL_VIDEOS,
            user=str(user_id),
            stars=STARS,
            since=int(self._clock()) - TRENDING_SECONDS,
            limit=VIDEO_CANDIDATES,
            withdrawn=withdrawn,
            paths=UNBOUNDED,
        )

    async def refresh(self, user_id: uuid.UUID) -> list[Kind]:
        """Recompute (or drop) the user's rankings after a change of their own: the kinds stored."""
        stored: list[Kind] = []
        personal, withdrawn = await consent_of(self._db, user_id)
        for kind in ("people", "videos"):
            counted = personal and await self._db.fetch(
                paths_sql(kind, one_user=True), user_id, self.above_paths
            )
            if counted:
                await self._store(user_id, kind, withdrawn, int(counted[0]["paths"]))
                stored.append(kind)
            else:
                await self._db.fetch(
                    "DELETE FROM precomputed_rankings WHERE user_id = {} AND kind = {}", user_id, kind
                )
        return stored

    async def _store(self, user_id: uuid.UUID, kind: Kind, withdrawn: list[str], paths: int) -> None:
        """Compute and store; a ranking marked stale after the computation began (from a graph
        that may not show the change yet) stays stale, to be computed again."""
        started = (await self._db.fetch("SELECT clock_timestamp() AS at"))[0]["at"]
        ranking = [
            {key: int(value) if isinstance(value, float) else value for key, value in row.items()}
            for row in await self.compute(user_id, kind, withdrawn)
        ]  # FalkorDB's sums are floats
        await self._db.fetch(
            "INSERT INTO precomputed_rankings (user_id, kind, ranking, withdrawn, paths)"
            " VALUES ({}, {}, {}::jsonb, {}, {})"
            " ON CONFLICT (user_id, kind) DO UPDATE SET ranking = excluded.ranking,"
            " withdrawn = excluded.withdrawn, paths = excluded.paths, computed_at = now(),"
            " stale_at = CASE WHEN precomputed_rankings.stale_at > {} THEN precomputed_rankings.stale_at END",
            user_id,
            kind,
            msgspec.json.encode(ranking).decode(),
            withdrawn,
            paths,
            started,
        )

    async def refresh_all(
        self, users: list[uuid.UUID] | None = None, *, older_than: float | None = None
    ) -> PassReport:
        """One full pass: the rankings of every user with more paths than ``above_paths`` computed
        (only ``users``' among them, if given; only those missing or computed more than
        ``older_than`` seconds ago, if given), and the rows of the others (or of users who withdrew
        personalization) dropped."""
        started = time.perf_counter()
        computed = dropped = 0
        wanted = set(users) if users is not None else None
        for kind in ("people", "videos"):
            stored = {
                row["user_id"]: int(row["paths"])
                for row in await self._db.fetch(paths_sql(kind, one_user=False), self.above_paths)
            }
            fresh: set[uuid.UUID] = set()
            if older_than is not None:
                rows = await self._db.fetch(
                    "SELECT user_id FROM precomputed_rankings WHERE kind = {}"
                    " AND computed_at > now() - make_interval(secs => {})",
                    kind,
                    older_than,
                )
                fresh = {row["user_id"] for row in rows}
            for user_id, paths in stored.items():
                if (wanted is not None and user_id not in wanted) or user_id in fresh:
                    continue
                _, withdrawn = await consent_of(self._db, user_id)
                await self._store(user_id, kind, withdrawn, paths)
                computed += 1
            if wanted is None:
                rows = await self._db.fetch(
                    "DELETE FROM precomputed_rankings WHERE kind = {} AND NOT user_id = ANY({}) RETURNING 1",
                    kind,
                    list(stored),
                )
                dropped += len(rows)
        return PassReport(computed, dropped, time.perf_counter() - started)

    async def changed(self, change: GraphChange) -> None:
        """A change the projector has just applied: the rankings of the user whose own relations
        it changed are recomputed (or dropped, or made); those it makes stale are marked, for the
        sweep. A new follow of X makes X's followers' people stale and, as X may now be a friend,
        the followee's video picks; X's rating or watch makes X's followers' video picks stale."""
        own, marks = "", list[tuple[str, Kind, str]]()
        match change:
            case FollowChanged(follower_id=own, followee_id=followee):
                marks = [(_FOLLOWERS_STALE, "people", own), (_ONE_STALE, "videos", followee)]
            case BlockChanged(blocker_id=own) | MuteChanged(muter_id=own) | DismissalChanged(user_id=own):
                pass
            case RatingChanged(user_id=fan) | WatchChanged(user_id=fan):
                marks = [(_FOLLOWERS_STALE, "videos", fan)]
            case _:
                return
        try:
            user_id = uuid.UUID(own) if own else None
            marked = [(sql, kind, uuid.UUID(who)) for sql, kind, who in marks]
        except ValueError:
            return
        if user_id is not None:
            await self.refresh(user_id)
        for sql, kind, who in marked:
            await self._db.fetch(sql, who, kind)
        if marked:
            self._stale.set()

    async def sweep(self, limit: int = SWEEP_BATCH) -> int:
        """Recompute up to ``limit`` stale rankings, the longest stale first: how many."""
        rows = await self._db.fetch(
            "SELECT user_id, kind, paths FROM precomputed_rankings WHERE stale_at IS NOT NULL"
            " ORDER BY stale_at LIMIT {}",
            limit,
        )
        for row in rows:
            personal, withdrawn = await consent_of(self._db, row["user_id"])
            if personal:
                await self._store(row["user_id"], row["kind"], withdrawn, row["paths"])
            else:  # withdrew meanwhile: the pass drops the row; it is not served
                await self._db.fetch(
                    "DELETE FROM precomputed_rankings WHERE user_id = {} AND kind = {}",
                    row["user_id"],
                    row["kind"],
                )
        return len(rows)

    async def run(self) -> None:
        """Until cancelled: the sweep of stale rankings, and the passes, working while
        ``active`` (the outbox relay's lead: in one process of many at a time)."""
        await asyncio.gather(self._sweeping(), self._passes())

    async def _sweeping(self) -> None:
        """Recompute stale rankings as they come: woken by this process's marks, and every
        ``sweep_seconds`` for those marked by another process's relay (or after a failure)."""
        while True:
            try:
                while self.active() and await self.sweep():
                    pass
            except GraphUnavailable as exc:
                log.warning("rankings sweep failed: %s", exc)
            except Exception:  # PostgreSQL away, say: tried again at the next turn, not given up
                log.exception("rankings sweep failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stale.wait(), self.sweep_seconds)
            self._stale.clear()

    async def _passes(self) -> None:
        """A pass every quarter of ``refresh_seconds`` over the rankings older than
        ``refresh_seconds`` (and users without one): no ranking is older than about 1.25
        ``refresh_seconds`` plus a pass, and a restart recomputes nothing still fresh. A pass that
        fails (the graph or PostgreSQL away) is retried at the next turn; stored rankings are
        served meanwhile."""
        while True:
            if not self.active():  # another process leads: look again soon
                await asyncio.sleep(self.sweep_seconds)
                continue
            try:
                report = await self.refresh_all(older_than=self.refresh_seconds)
                log.info(
                    "rankings computed for %d users (%d dropped) in %.1f s",
                    report.users,
                    report.dropped,
                    report.seconds,
                )
            except GraphUnavailable as exc:
                log.warning("rankings pass failed: %s", exc)
            except Exception:
                log.exception("rankings pass failed")
            await asyncio.sleep(self.refresh_seconds / 4)


def projecting_handler(projector: Projector, rankings: PrecomputedRankings) -> Any:
    """The ``@graph`` outbox handler with rankings kept up: project the change, then recompute the
    rankings it touches (so they are computed from the graph that already shows it)."""

    async def handle(payload: bytes, key: str) -> None:
        await projector.handle(payload, key)
        await rankings.changed(decoder.decode(payload))

    return handle

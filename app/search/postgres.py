"""Search in PostgreSQL: full-text (``websearch_to_tsquery``) for words, ``pg_trgm`` for typos and
prefixes, both over text folded by ``search_fold`` (accents removed, lower case; see migration
``m0010_search``).

The user's text is always a bound parameter and goes through ``websearch_to_tsquery``, which
reads any input as plain words (it never fails on ``&``, ``|``, ``!`` or quotes), and through
LIKE only with its wildcards escaped. The SQL below is built from constant fragments only.

Relevance is the full-text rank plus the trigram word similarity, so an exact word beats a typo;
popularity (ratings for a video, followers for a person) orders equal relevance, and the id
makes the order total for the keyset cursor. Relevance depends on the query only, so a cursor
stays valid for the same ``q``; popularity may move between pages, which can at worst repeat or
skip a row at a page's edge.
"""

from __future__ import annotations

import uuid
from typing import Any

from app.search.schemas import PeoplePage, PersonHit
from app.search.terms import TRIGRAM_CHARS, Terms
from app.videos.schemas import UserRef, Video, VideoPage
from core.db import Database
from core.pagination import decode_cursor, encode_cursor
from core.tokens import Principal

# What one may find; the partial indexes of ``m0010_search`` carry the same predicate.
_SEARCHABLE_VIDEO = "v.visibility = 'public' AND v.status = 'ready'"
# A person's searchable text. Adding display names (from profiles) is this one line plus an index:
# "search_fold(u.handle || ' ' || coalesce(p.display_name, ''))" with that profile joined below.
_PERSON_TEXT = "search_fold(u.handle)"
_WORDS = "websearch_to_tsquery('simple'::regconfig, search_fold({}))"
_FOLDED = "search_fold({})"
# NOT IN over one small list (hashed once per query), not NOT EXISTS with an OR, which PostgreSQL
# can only run as a nested loop comparing every candidate with every block of the viewer.
_NOT_BLOCKED = """{owner} NOT IN (SELECT b.blocked_id FROM blocks b WHERE b.blocker_id = {{}}::uuid
    UNION ALL SELECT b.blocker_id FROM blocks b WHERE b.blocked_id = {{}}::uuid)"""
# At most this many matches are ranked: a query matching thousands (a common word, a short
# prefix) then costs what a rarer one does. They are picked from the table alone (the GIN indexes
# answer that), then joined and ranked. Which ones are kept is the index's order, not the best; a
# dedicated engine is where to go when that matters (docs/search.md).
CANDIDATES = 1000
_PAGE = """) hit
WHERE {}::float8 IS NULL OR (hit.relevance, hit.popularity, hit.id) < ({}::float8, {}::bigint, {}::uuid)
ORDER BY hit.relevance DESC, hit.popularity DESC, hit.id DESC
LIMIT {}"""


def _videos(match: str, relevance: str) -> str:
    return f"""WITH candidate AS MATERIALIZED (
    SELECT v.id FROM videos v
    WHERE {_SEARCHABLE_VIDEO} AND ({match}) AND {_NOT_BLOCKED.format(owner="v.owner_id")}
    LIMIT {CANDIDATES}
)
SELECT * FROM (
SELECT v.id, v.title, v.description, v.visibility, v.status, v.duration_seconds, v.failure_reason,
       v.created_at, v.updated_at, u.id AS owner_id, u.handle AS owner_handle,
       COALESCE(t.count, 0)::bigint AS popularity, ({relevance})::float8 AS relevance
FROM candidate c
JOIN videos v ON v.id = c.id
JOIN users u ON u.id = v.owner_id
LEFT JOIN rating_totals t ON t.video_id = v.id
{_PAGE}"""


def _people(match: str) -> str:
    return f"""WITH candidate AS MATERIALIZED (
    SELECT u.id FROM users u WHERE ({match}) AND {_NOT_BLOCKED.format(owner="u.id")} LIMIT {CANDIDATES}
)
SELECT * FROM (
SELECT u.id, u.handle,
       (SELECT count(*) FROM follows f WHERE f.followee_id = u.id) AS popularity,
       (similarity({_FOLDED}, {_PERSON_TEXT}) + word_similarity({_FOLDED}, {_PERSON_TEXT}))::float8
           AS relevance
FROM candidate c
JOIN users u ON u.id = c.id
{_PAGE}"""


# Whole words only: for queries too short for trigrams to tell titles apart.
VIDEOS_BY_WORDS = _videos(f"v.search_words @@ {_WORDS}", f"ts_rank(v.search_words, {_WORDS})")
# Words, or a title close to the query (typos, the start of a word).
VIDEOS = _videos(
    f"v.search_words @@ {_WORDS} OR {_FOLDED} <% search_fold(v.title)",
    f"ts_rank(v.search_words, {_WORDS}) + word_similarity({_FOLDED}, search_fold(v.title))",
)
_PREFIX = f"{_PERSON_TEXT} LIKE {_FOLDED} || '%' ESCAPE '\\'"
# The start of a handle, with LIKE's wildcards in the query escaped: for short queries.
PEOPLE_BY_PREFIX = _people(_PREFIX)
PEOPLE = _people(f"{_PREFIX} OR {_FOLDED} <% {_PERSON_TEXT}")


def video_query(terms: Terms, me: uuid.UUID | None, cursor: str | None, limit: int) -> tuple[str, list[Any]]:
    """The SQL and its arguments for a page of videos (the benchmark explains the same)."""
    q, page = terms.text, _page_args(cursor, limit)
    if terms.letters < TRIGRAM_CHARS:
        return VIDEOS_BY_WORDS, [q, me, me, q, *page]
    return VIDEOS, [q, q, me, me, q, q, *page]


def people_query(terms: Terms, me: uuid.UUID | None, cursor: str | None, limit: int) -> tuple[str, list[Any]]:
    q, prefix, page = terms.text, like_prefix(terms.text), _page_args(cursor, limit)
    if terms.letters < TRIGRAM_CHARS:
        return PEOPLE_BY_PREFIX, [prefix, me, me, q, q, *page]
    return PEOPLE, [prefix, q, me, me, q, q, *page]


def like_prefix(text: str) -> str:
    """``text`` with LIKE's wildcards and escape character taken literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _page_args(cursor: str | None, limit: int) -> list[Any]:
    if cursor is None:
        return [None, None, None, None, limit + 1]
    relevance, popularity, last = decode_cursor(cursor, tuple[float, int, uuid.UUID])
    return [relevance, relevance, popularity, last, limit + 1]


def _next(rows: list[dict[str, Any]], limit: int) -> str | None:
    if len(rows) <= limit:
        return None
    last = rows[limit - 1]
    return encode_cursor(last["relevance"], last["popularity"], str(last["id"]))


def _video(row: dict[str, Any]) -> Video:
    return Video(
        id=row["id"],
        owner=UserRef(id=row["owner_id"], handle=row["owner_handle"]),
        title=row["title"],
        description=row["description"],
        visibility=row["visibility"],
        status=row["status"],
        duration_seconds=row["duration_seconds"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        failure_reason=row["failure_reason"],
    )


class PostgresSearch:
    """The ``SearchEngine`` of the main database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def videos(
        self, terms: Terms, viewer: Principal | None, cursor: str | None, limit: int
    ) -> VideoPage:
        sql, args = video_query(terms, viewer.id if viewer else None, cursor, limit)  # checks the cursor
        if terms.letters == 0:  # nothing full-text or trigrams could match
            return VideoPage(items=[], next_cursor=None)
        rows = await self._db.fetch(sql, *args)
        return VideoPage(items=[_video(row) for row in rows[:limit]], next_cursor=_next(rows, limit))

    async def people(
        self, terms: Terms, viewer: Principal | None, cursor: str | None, limit: int
    ) -> PeoplePage:
        sql, args = people_query(terms, viewer.id if viewer else None, cursor, limit)
        if terms.letters == 0:
            return PeoplePage(items=[], next_cursor=None)
        rows = await self._db.fetch(sql, *args)
        items = [
            PersonHit(user=UserRef(id=row["id"], handle=row["handle"]), followers=int(row["popularity"]))
            for row in rows[:limit]
        ]
        return PeoplePage(items=items, next_cursor=_next(rows, limit))

"""Search in PostgreSQL: full-text (``websearch_to_tsquery``) for words, ``pg_trgm`` for typos and
prefixes, both over text folded by ``search_fold`` (accents removed, lower case; see migration
``m0010_search``).

People are found by handle here and by display name in the identity database (profiles are
personal data and live there; no query spans the two): the profiles feature hands over the ids
whose display name matches, with their relevance, and they join the handle matches as one more
arm, under the same block rule, ranking and cursor.

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
from collections.abc import Sequence
from typing import Any

from app.identity.profiles import NameMatch
from app.profiles.service import ProfileCard, ProfileService
from app.search.schemas import PeoplePage, PersonHit
from app.search.terms import TRIGRAM_CHARS, Terms
from app.videos.schemas import UserRef, VideoPage
from app.videos.service import video_from_row
from core.db import Database
from core.pagination import decode_cursor, encode_cursor
from core.tokens import Principal

# What one may find; the partial indexes of ``m0010_search`` carry the same predicate.
_SEARCHABLE_VIDEO = "v.visibility = 'public' AND v.status = 'ready'"
# A person's searchable text in this database; display names are matched in the identity
# database (``ProfileService.search_names``) and arrive as ``named`` (id, relevance) rows.
_PERSON_TEXT = "search_fold(u.handle)"
_WORDS = "websearch_to_tsquery('simple'::regconfig, search_fold({}))"
_FOLDED = "search_fold({})"
# NOT IN over one small list (hashed once per query), not NOT EXISTS with an OR, which PostgreSQL
# can only run as a nested loop comparing every candidate with every block of the viewer.
_NOT_BLOCKED = """{owner} NOT IN (SELECT b.blocked_id FROM blocks b WHERE b.blocker_id = {{}}::uuid
    UNION ALL SELECT b.blocker_id FROM blocks b WHERE b.blocked_id = {{}}::uuid)"""
# At most this many matches per arm are ranked: a query matching thousands (a common word, a
# short prefix) then costs what a rarer one does. The arms, each tried only while those before it
# found fewer than this: whole words, then the start of the last word (both on the tsvector's GIN
# index), then titles close by trigrams (typos). A GIN index scan cannot stop early, and a common
# word's prefix or trigrams are in most rows (80 000 of 100 000 for "atat:*", 12 ms; 68 000 for
# its trigrams, 8 ms), while its whole words already fill the candidates. Each arm stops at its
# limit, so near misses never crowd out whole words. Which ones are kept is the index's order,
# not the best; a dedicated engine is where to go when that matters (docs/search.md). 100:
# ranking 1000 took 16 ms, 200 per arm gave p99 22.9 ms, 100 gave 20.1 ms (BENCHMARKS.md); up to
# 200 videos (100 by words or prefixes, 100 near titles) is ten pages of 20.
CANDIDATES = 100
_PAGE = """) hit
WHERE {}::float8 IS NULL OR (hit.relevance, hit.popularity, hit.id) < ({}::float8, {}::bigint, {}::uuid)
ORDER BY hit.relevance DESC, hit.popularity DESC, hit.id DESC
LIMIT {}"""


def _arms(select: str, arms: list[str], owner: str) -> str:
    """One ``SELECT ... LIMIT`` per kind of match, so each runs on its own index and stops early."""
    not_blocked = _NOT_BLOCKED.format(owner=owner)
    return "\n    UNION\n    ".join(
        f"({select} AND ({arm}) AND {not_blocked} LIMIT {CANDIDATES})" for arm in arms
    )


def _videos(words: str, prefixes: str | None, relevance: str) -> str:
    """Whole words; with ``prefixes``, also the start of the last word when whole words found
    fewer than ``CANDIDATES``, and titles close to the query by trigrams when both together did."""
    select = f"SELECT v.id FROM videos v WHERE {_SEARCHABLE_VIDEO}"
    arms = f"WITH candidate AS MATERIALIZED (\n    {_arms(select, [words], 'v.owner_id')}\n)"
    if prefixes is not None:
        few_words = f"(SELECT count(*) FROM word) < {CANDIDATES}"
        # A whole word's match is a prefix match too: the larger count is how many were found.
        few_yet = f"greatest((SELECT count(*) FROM word), (SELECT count(*) FROM prefixed)) < {CANDIDATES}"
        near = f"{_FOLDED} <% search_fold(v.title) AND {few_yet}"
        arms = f"""WITH word AS MATERIALIZED (
    {_arms(select, [words], "v.owner_id")}
), prefixed AS MATERIALIZED (
    {_arms(select, [f"{prefixes} AND {few_words}"], "v.owner_id")}
), candidate AS MATERIALIZED (
    SELECT id FROM word UNION SELECT id FROM prefixed
    UNION {_arms(select, [near], "v.owner_id")}
)"""
    return f"""{arms}
SELECT * FROM (
SELECT v.id, v.title, v.description, v.visibility, v.status, v.duration_seconds, v.failure_reason,
       v.created_at, v.updated_at, u.id AS owner_id, u.handle AS owner_handle,
       COALESCE(t.count, 0)::bigint AS popularity, ({relevance})::float8 AS relevance
FROM candidate c
JOIN videos v ON v.id = c.id
JOIN users u ON u.id = v.owner_id
LEFT JOIN rating_totals t ON t.video_id = v.id
{_PAGE}"""


def _people(arms: list[str]) -> str:
    """Handles matching by ``arms``, and the users whose display name matched (``named``: ids
    and relevances as two arrays), ranked by the better of the two relevances."""
    return f"""WITH named AS MATERIALIZED (
    SELECT * FROM unnest({{}}::uuid[], {{}}::float8[]) AS n(id, relevance)
), candidate AS MATERIALIZED (
    {_arms("SELECT u.id FROM users u WHERE true", arms, "u.id")}
    UNION
    (SELECT n.id FROM named n WHERE {_NOT_BLOCKED.format(owner="n.id")})
)
SELECT * FROM (
SELECT u.id, u.handle,
       (SELECT count(*) FROM follows f WHERE f.followee_id = u.id) AS popularity,
       greatest(
           similarity({_FOLDED}, {_PERSON_TEXT}) + word_similarity({_FOLDED}, {_PERSON_TEXT}),
           coalesce(n.relevance, 0)
       )::float8 AS relevance
FROM candidate c
JOIN users u ON u.id = c.id
LEFT JOIN named n ON n.id = u.id
{_PAGE}"""


_VIDEO_WORDS = f"v.search_words @@ {_WORDS}"
# The same words with the last one a prefix ('star':* finds "starship"), made from the parsed
# query, never from the user's text: ':*' is added only after a plain word (the parsed text ends
# in a quote), so a query ending in an operator or a parenthesis stays whole words.
_VIDEO_PREFIXES = (
    "v.search_words @@ (SELECT CASE WHEN right(w::text, 1) = '''' THEN (w::text || ':*')::tsquery"
    f" ELSE w END FROM {_WORDS} w)"
)
# Whole words only: for queries too short for prefixes and trigrams to tell titles apart.
VIDEOS_BY_WORDS = _videos(_VIDEO_WORDS, None, f"ts_rank(v.search_words, {_WORDS})")
# Words, the start of the last word, or (when those are few) a title close to the query (typos).
VIDEOS = _videos(
    _VIDEO_WORDS,
    _VIDEO_PREFIXES,
    f"ts_rank(v.search_words, {_WORDS}) + word_similarity({_FOLDED}, search_fold(v.title))",
)
_PREFIX = f"{_PERSON_TEXT} LIKE {_FOLDED} || '%' ESCAPE '\\'"
# The start of a handle, with LIKE's wildcards in the query escaped: for short queries.
PEOPLE_BY_PREFIX = _people([_PREFIX])
PEOPLE = _people([_PREFIX, f"{_FOLDED} <% {_PERSON_TEXT}"])


def video_query(terms: Terms, me: uuid.UUID | None, cursor: str | None, limit: int) -> tuple[str, list[Any]]:
    """The SQL and its arguments for a page of videos (the benchmark explains the same)."""
    q, page = terms.text, _page_args(cursor, limit)
    if terms.letters < TRIGRAM_CHARS:
        return VIDEOS_BY_WORDS, [q, me, me, q, *page]
    return VIDEOS, [q, me, me, q, me, me, q, me, me, q, q, *page]


def people_query(
    terms: Terms,
    me: uuid.UUID | None,
    cursor: str | None,
    limit: int,
    named: Sequence[NameMatch] = (),
) -> tuple[str, list[Any]]:
    """The SQL and its arguments for a page of people; ``named``: the display-name matches."""
    q, prefix, page = terms.text, like_prefix(terms.text), _page_args(cursor, limit)
    ids, relevances = [m.account for m in named], [m.relevance for m in named]
    if terms.letters < TRIGRAM_CHARS:
        return PEOPLE_BY_PREFIX, [ids, relevances, prefix, me, me, me, me, q, q, *page]
    return PEOPLE, [ids, relevances, prefix, me, me, q, me, me, me, me, q, q, *page]


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


class PostgresSearch:
    """The ``SearchEngine`` of the main database, with display names from ``profiles`` (without
    it, people are found by handle only, as the benchmark does)."""

    def __init__(self, db: Database, profiles: ProfileService | None = None) -> None:
        self._db = db
        self._profiles = profiles

    async def videos(
        self, terms: Terms, viewer: Principal | None, cursor: str | None, limit: int
    ) -> VideoPage:
        sql, args = video_query(terms, viewer.id if viewer else None, cursor, limit)  # checks the cursor
        if terms.letters == 0:  # nothing full-text or trigrams could match
            return VideoPage(items=[], next_cursor=None)
        rows = await self._db.fetch(sql, *args)
        return VideoPage(items=[video_from_row(row) for row in rows[:limit]], next_cursor=_next(rows, limit))

    async def people(
        self, terms: Terms, viewer: Principal | None, cursor: str | None, limit: int
    ) -> PeoplePage:
        me = viewer.id if viewer else None
        people_query(terms, me, cursor, limit)  # checks the cursor before any database is asked
        if terms.letters == 0:
            return PeoplePage(items=[], next_cursor=None)
        named: list[NameMatch] = []
        cards: dict[uuid.UUID, ProfileCard] = {}
        if self._profiles is not None:
            named, cards = await self._profiles.search_names(
                terms.text, like_prefix(terms.text), near=terms.letters >= TRIGRAM_CHARS
            )
        sql, args = people_query(terms, me, cursor, limit, named)
        rows = await self._db.fetch(sql, *args)
        shown = rows[:limit]
        unknown = [row["id"] for row in shown if row["id"] not in cards]  # found by handle only
        if self._profiles is not None and unknown:
            cards |= await self._profiles.cards(unknown)
        items = [
            PersonHit(
                user=UserRef(id=row["id"], handle=row["handle"]),
                followers=int(row["popularity"]),
                display_name=cards[row["id"]].display_name if row["id"] in cards else None,
                avatar=cards[row["id"]].avatar if row["id"] in cards else None,
            )
            for row in shown
        ]
        return PeoplePage(items=items, next_cursor=_next(rows, limit))

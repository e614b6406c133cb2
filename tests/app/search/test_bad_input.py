"""Hostile and broken queries: a clear 4xx or plain results, never a 5xx."""

from __future__ import annotations

import pytest

from app.search.terms import MAX_CHARS, parse
from core.db import Database
from core.errors import BadRequest
from core.settings import Settings
from tests.app.search.helpers import ids, ready_video, word
from tests.app.video_helpers import Client
from tests.users import person

KINDS = ("videos", "people")

# Each is read as text: it finds what its words would find, or nothing.
ODD_QUERIES = [
    "%",
    "_",
    "%%__",
    "\\",
    "a\\",
    "\\%_",
    "a & | !b",
    "!!!",
    "(a | b) & !c:*",
    "'quoted' \"phrase\" -not or",
    "'; DROP TABLE videos; --",
    "1' OR '1'='1",
    "$1 {} {0} %s",
    "\u202e\u0301\ufeff",
    # What the prefix of the last word is built after: a negated phrase, a trailing operator, an
    # unclosed quote, letters that unaccent turns into several characters.
    '-"two words"',
    "word -",
    "word or",
    '"unclosed words',
    'a -"b c" d',
    "\u00bd \ufb01 \u00df \u00c6",
    "don't",
    "x" * MAX_CHARS,
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("q", ODD_QUERIES)
async def test_odd_queries_are_answered_as_text(client: Client, kind: str, q: str) -> None:
    response = await client.get(f"/search/{kind}", params={"q": q})
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"items", "next_cursor"}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("q", "code"),
    [
        ("", "search_query_empty"),
        ("   \t ", "search_query_empty"),
        ("x" * (MAX_CHARS + 1), "search_query_too_long"),
        ("x" * 10_000, "search_query_too_long"),
        ("a\x00b", "search_query_invalid"),
        ("a\x1bb", "search_query_invalid"),
    ],
)
async def test_bad_queries_are_refused_with_a_reason(client: Client, kind: str, q: str, code: str) -> None:
    response = await client.get(f"/search/{kind}", params={"q": q})
    assert response.status_code == 400, response.text
    assert response.json()["error"] == code
    assert response.json()["message"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("raw", ["q=a%ED%A0%80b", "q=%ED%A0%80", "q=%FF%FE", "q=%00", "q"])
async def test_undecodable_or_missing_queries_are_a_4xx(client: Client, kind: str, raw: str) -> None:
    """Raw query strings: a lone surrogate or a NUL encoded in UTF-8, bytes that are no UTF-8."""
    response = await client.get(f"/search/{kind}?{raw}")
    assert 400 <= response.status_code < 500 or response.status_code == 200, response.text
    if response.status_code == 200:
        assert set(response.json()) == {"items", "next_cursor"}
    else:
        assert response.json()["error"]


def test_a_lone_surrogate_reaching_the_engine_is_refused() -> None:
    """A surrogate cannot be sent over HTTP as text, but another caller of the engine could."""
    with pytest.raises(BadRequest) as refused:
        parse("a\ud800b")
    assert refused.value.code == "search_query_invalid"


async def test_operators_and_wildcards_do_not_change_what_words_find(
    client: Client, db: Database, settings: Settings
) -> None:
    owner, term = await person(settings), word()
    video = await ready_video(client, db, owner, title=f"{term} story")
    for q in (f"{term} & | !b", f"%{term}%", f"{term}\\", f"'{term}' OR 1=1 --"):
        assert video in ids(await client.get("/search/videos", params={"q": q})), q

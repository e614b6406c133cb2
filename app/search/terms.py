"""What a search query may be, checked before any engine sees it.

A query is typed by a person, so it is short: capping it keeps every query cheap (trigram and
full-text work grows with its length) and turns pasted pages into a clear 400. Characters that
no text in the catalog can hold (NUL and other control characters, lone surrogates) are refused
rather than silently dropped, so the caller learns their input was garbled.
"""

from __future__ import annotations

import unicodedata

import msgspec

from core.errors import BadRequest

MAX_CHARS = 100
TRIGRAM_CHARS = 3  # fewer letters than this make trigrams match nearly everything: words only


class Terms(msgspec.Struct, frozen=True):
    text: str  # trimmed, spaces collapsed; passed to the engine as a value, never into SQL text
    letters: int  # letters and digits in it: what full-text and trigram matching can use


def parse(raw: str) -> Terms:
    """``raw`` as search terms, or a 400 saying what is wrong with it."""
    if len(raw) > MAX_CHARS:
        raise BadRequest(
            f"the search query has {len(raw)} characters; at most {MAX_CHARS} are searched",
            code="search_query_too_long",
            details={"max_chars": MAX_CHARS},
        )
    for char in raw:
        if unicodedata.category(char) in ("Cc", "Cs") and not char.isspace():
            raise BadRequest(
                f"the search query holds the character U+{ord(char):04X}, which no title or handle has",
                code="search_query_invalid",
            )
    text = " ".join(raw.split())
    if not text:
        raise BadRequest("the search query is empty; say what to look for in q", code="search_query_empty")
    return Terms(text=text, letters=sum(char.isalnum() for char in text))

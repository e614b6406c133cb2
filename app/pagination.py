"""Keyset pagination: opaque cursors that name the last row a page ended on.

A cursor is the sort key of that row (for example its creation time and id), encoded so clients
treat it as a token. Keyset pages stay correct while rows are inserted, unlike offsets. Every
paged list describes its key once (``Keyset``) and reads its pages through ``page_rows``.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import msgspec
from litestar.params import QueryParameter

from app.db import Database
from app.errors import BadRequest
from app.params import fits_bigint

T = TypeVar("T")

# Query parameters of every paged list.
Limit = Annotated[int, QueryParameter(ge=1, le=100, description="items per page (1-100)")]
Cursor = Annotated[str | None, QueryParameter(description="next_cursor of the previous page")]


def encode_cursor(*key: Any) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode(list(key))).decode().rstrip("=")


def decode_cursor(cursor: str, shape: type[T]) -> T:
    """The key inside ``cursor`` as ``shape`` (a tuple type); a 400 if it was not ours.

    A cursor comes back from the client, so every number in it is checked as well: one we made
    holds only bigints and finite floats, which is all the database takes.
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = msgspec.json.decode(raw, type=shape)
    except (ValueError, RecursionError, msgspec.DecodeError) as exc:
        raise _invalid() from exc
    for part in key if isinstance(key, tuple) else (key,):
        if isinstance(part, bool):
            continue
        if (isinstance(part, int) and not fits_bigint(part)) or (
            isinstance(part, float) and not math.isfinite(part)
        ):
            raise _invalid()
    return key


def _invalid() -> BadRequest:
    return BadRequest("the cursor is not valid; start again without it", code="invalid_cursor")


@dataclass(frozen=True)
class Keyset:
    """The sort key of a paged list, written once: the SQL columns it orders by, the row fields
    they come back as, and the cursor's type. Every list pages the same way through it: rows after
    the cursor's key, in key order, one more than asked for to learn whether a next page exists."""

    columns: tuple[str, ...]  # e.g. ("v.created_at", "v.id"): unique together
    fields: tuple[str, ...]  # the same values' names in a fetched row, e.g. ("created_at", "id")
    shape: Any  # the cursor's tuple type, e.g. tuple[datetime, uuid.UUID]
    descending: bool = True  # newest (largest key) first

    def decode(self, cursor: str | None) -> tuple[Any, ...] | None:
        """The key a page starts after (None: the first page); a 400 for a cursor not ours."""
        return None if cursor is None else tuple(decode_cursor(cursor, self.shape))

    def after(self, key: tuple[Any, ...] | None) -> tuple[list[str], list[Any]]:
        """The condition (and its values) that keeps only rows past ``key``; none for no key."""
        if key is None:
            return [], []
        sign = "<" if self.descending else ">"
        if len(self.columns) == 1:
            return [f"{self.columns[0]} {sign} {{}}"], list(key)
        placeholders = ", ".join("{}" for _ in self.columns)
        return [f"({', '.join(self.columns)}) {sign} ({placeholders})"], list(key)

    def order(self) -> str:
        """``ORDER BY`` the key and ``LIMIT`` with a placeholder for the row count."""
        way = " DESC" if self.descending else ""
        return " ORDER BY " + ", ".join(column + way for column in self.columns) + " LIMIT {}"

    def cursor(self, row: dict[str, Any]) -> str:
        """The cursor of the page that follows ``row``."""
        return encode_cursor(*(row[name] for name in self.fields))


async def page_rows(
    db: Database,
    select: str,
    conditions: Sequence[str],
    values: Sequence[Any],
    keyset: Keyset,
    cursor: str | None,
    limit: int,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of ``select`` (a ``SELECT ... FROM ...`` with ``{}`` placeholders) filtered by
    ``conditions`` (their placeholders filled from ``values``, in order) and ordered by ``keyset``:
    the page's rows and the cursor of the next page (None on the last)."""
    after, key = keyset.after(keyset.decode(cursor))
    where = " AND ".join([*conditions, *after]) or "true"
    rows = await db.fetch(select + " WHERE " + where + keyset.order(), *values, *key, limit + 1)
    page = rows[:limit]
    return page, keyset.cursor(page[-1]) if len(rows) > limit else None

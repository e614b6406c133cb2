"""Keyset pagination: opaque cursors that name the last row a page ended on.

A cursor is the sort key of that row (for example its creation time and id), encoded so clients
treat it as a token. Keyset pages stay correct while rows are inserted, unlike offsets.
"""

from __future__ import annotations

import base64
import math
from typing import Annotated, Any, TypeVar

import msgspec
from litestar.params import QueryParameter

from core.errors import BadRequest
from core.params import fits_bigint

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

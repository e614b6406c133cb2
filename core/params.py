"""Number types of the wire: integers that fit PostgreSQL's ``bigint``.

Ids are bigints; a larger integer can name nothing, and asyncpg refuses to even send it. Bounding
the types at the edge turns such input into a 400 (and documents the range in the OpenAPI
document) instead of a database error.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar.params import PathParameter

BIGINT_MIN = -(2**63)
BIGINT_MAX = 2**63 - 1

BigInt = Annotated[int, msgspec.Meta(ge=BIGINT_MIN, le=BIGINT_MAX)]
"""An integer of a request body that is stored as a bigint."""

IdPath = Annotated[int, PathParameter(ge=BIGINT_MIN, le=BIGINT_MAX)]
"""A bigint id in a path, such as ``/comments/{comment_id}``."""


def fits_bigint(value: int) -> bool:
    return BIGINT_MIN <= value <= BIGINT_MAX

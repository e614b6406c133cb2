"""JSON request bodies, checked once before any handler sees them.

Every endpoint that takes a JSON body (a ``data`` parameter) gets the same rules here, so no
schema has to repeat them:

- the body must be sent as JSON (``application/json`` or ``application/*+json``): a browser
  sends ``text/plain`` and form bodies cross-site without a CORS preflight, so accepting them
  would let any web page post on a user's behalf where credentials travel by themselves;
- it must be UTF-8 and nested at most ``MAX_DEPTH`` deep (msgspec's decoder raises
  ``RecursionError`` around 1000, which is not a client error to Litestar);
- no string, key or value, may hold a NUL character: PostgreSQL cannot store one.

The decoded value is cached on the request, so Litestar does not decode the body again.
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Request
from litestar.exceptions import SerializationException

from core.errors import BadRequest, UnsupportedMediaType

MAX_DEPTH = 32  # our deepest schema nests 3 levels
_JSON_TYPE = re.compile(r"application/(?:[\w.+-]+\+)?json")


async def check_json_body(request: Request[Any, Any, Any]) -> None:
    """A ``before_request`` hook: refuse a JSON body that breaks the rules above."""
    if "data" not in request.route_handler.parsed_fn_signature.parameters:
        return  # no JSON body here (the media upload takes any bytes)
    body = await request.body()
    if not body:
        return  # the handler's own validation says what is missing
    media_type = request.content_type[0].lower()
    if not _JSON_TYPE.fullmatch(media_type):
        raise UnsupportedMediaType(
            f"send the body as application/json, not {media_type or 'without a content type'}",
            details={"accepted": ["application/json"]},
        )
    try:
        value = await request.json()
    except RecursionError as exc:
        raise _too_deep() from exc
    except UnicodeDecodeError as exc:
        raise BadRequest("the body is not valid UTF-8") from exc
    except SerializationException as exc:
        raise BadRequest(f"the body is not valid JSON: {exc.detail}") from exc
    # JSON can only carry a NUL as an escape, and only nest as deep as it has brackets: most
    # bodies need no walk at all.
    if b"\\u0000" in body or body.count(b"[") + body.count(b"{") > MAX_DEPTH:
        _walk(value)


def _walk(value: Any) -> None:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise _too_deep()
        if isinstance(item, str):
            if "\x00" in item:
                raise BadRequest("text may not contain NUL characters", code="invalid_characters")
        elif isinstance(item, dict):
            stack.extend((part, depth + 1) for pair in item.items() for part in pair)
        elif isinstance(item, list):
            stack.extend((part, depth + 1) for part in item)


def _too_deep() -> BadRequest:
    return BadRequest(
        f"the JSON is nested more than {MAX_DEPTH} levels deep", details={"max_depth": MAX_DEPTH}
    )

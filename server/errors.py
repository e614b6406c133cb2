"""The edge's exception handlers: every error leaves as the one JSON shape of ``core.errors``.

A ``DomainError`` carries its own status and code; Litestar's exceptions, values PostgreSQL
refused and backend outages are mapped here, so no handler anywhere else builds an error body.
"""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap

from core import outages
from core.errors import OUTAGES, DomainError, ErrorBody, ServiceUnavailable

log = logging.getLogger("mydrtv.errors")


def _respond(status: int, body: ErrorBody, headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(content=body, status_code=status, headers=headers, media_type="application/json")


def app_error_handler(_: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    return _respond(exc.status_code, exc.body(), exc.headers)


_HTTP_CODES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def http_error_handler(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    details = exc.extra if isinstance(exc, ValidationException) else None
    body = ErrorBody(error=_HTTP_CODES.get(status, f"http_{status}"), message=exc.detail, details=details)
    return _respond(status, body, exc.headers)


_CHARACTER_ERRORS = (
    asyncpg.exceptions.CharacterNotInRepertoireError,
    asyncpg.exceptions.UntranslatableCharacterError,
)


def data_error_handler(request: Request[Any, Any, Any], exc: asyncpg.exceptions.DataError) -> Response[Any]:
    """A value PostgreSQL (or asyncpg, before sending it) refused: a NUL character, an integer past
    64 bits. The edge checks for these; this is the net under those checks, so a value that slips
    through is the client's 400, not a 500. Logged, as it means a check is missing."""
    log.warning("the database refused a value", extra={"path": request.url.path}, exc_info=exc)
    if isinstance(exc, _CHARACTER_ERRORS):
        body = ErrorBody(error="invalid_characters", message="text may not contain NUL characters")
    else:
        body = ErrorBody(error="invalid_request", message="a value is out of range or malformed")
    return _respond(400, body)


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """500, unless the error says a backend is out of reach: then 503 with its code."""
    backend = outages.outage_of(exc)
    if backend is not None:
        code, message = OUTAGES[backend]
        # One line, no traceback: an outage fails many requests alike; the cause is in the text.
        log.warning("%s: %s: %s", code, type(exc).__name__, exc, extra={"path": request.url.path})
        return app_error_handler(request, ServiceUnavailable(message, code=code))
    log.exception("unhandled error", extra={"path": request.url.path})
    return _respond(500, ErrorBody(error="internal_error", message="internal server error"))


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    DomainError: app_error_handler,
    HTTPException: http_error_handler,
    asyncpg.exceptions.DataError: data_error_handler,
    Exception: internal_error_handler,
}

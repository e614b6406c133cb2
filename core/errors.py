"""Typed errors and the one JSON error shape every response uses.

Domain code raises an ``DomainError`` subclass; the handlers here turn it (and Litestar's own
exceptions) into ``{"error": code, "message": text, "details": ...}``.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import asyncpg
import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap

from core import outages

log = logging.getLogger("mydrtv.errors")


class ErrorBody(msgspec.Struct, omit_defaults=True):
    error: str
    message: str
    details: Any = None
    # RFC 6749 section 5.2 asks OAuth2 errors to carry this field too.
    error_description: str | None = None


class DomainError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.code
        self.details = details
        self.headers = headers or {}

    def body(self) -> ErrorBody:
        return ErrorBody(error=self.code, message=self.message, details=self.details)


class BadRequest(DomainError):
    status_code = 400
    code = "invalid_request"


class Unauthorized(DomainError):
    status_code = 401
    code = "unauthorized"

    def __init__(self, message: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.headers.setdefault("WWW-Authenticate", "Bearer")


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class UnsupportedMediaType(DomainError):
    status_code = 415
    code = "unsupported_media_type"


class TooManyRequests(DomainError):
    status_code = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: float, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = max(1, math.ceil(retry_after))
        self.headers["Retry-After"] = str(self.retry_after)
        self.details = {"retry_after": self.retry_after}


RETRY_AFTER_SECONDS = 5  # a backend that restarts is usually back within a few seconds


class ServiceUnavailable(DomainError):
    """A backend is away: try again after ``Retry-After`` seconds (every 503 carries it)."""

    status_code = 503
    code = "unavailable"

    def __init__(self, message: str, *, retry_after: int = RETRY_AFTER_SECONDS, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.headers["Retry-After"] = str(retry_after)


# The code and message of each backend's outage (``core.outages``).
OUTAGES = {
    outages.DATABASE: ("database_unavailable", "the database is unavailable; try again later"),
    outages.BUS: ("bus_unavailable", "the message bus (Redis) is unavailable; try again later"),
}


class OAuthError(DomainError):
    """An error of the token endpoints, with the RFC 6749 code as ``error``."""

    def __init__(self, code: str, message: str, *, status_code: int = 400) -> None:
        super().__init__(message, code=code)
        self.status_code = status_code
        if status_code == 401:
            self.headers["WWW-Authenticate"] = "Bearer"

    def body(self) -> ErrorBody:
        return ErrorBody(error=self.code, message=self.message, error_description=self.message)


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

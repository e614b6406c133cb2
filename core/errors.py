"""Typed errors and the one JSON error shape every response uses.

Domain code raises a ``DomainError`` subclass; the edge (``server/errors.py``) turns it, and
Litestar's own exceptions, into ``{"error": code, "message": text, "details": ...}``.
"""

from __future__ import annotations

import math
from typing import Any

import msgspec

from core import outages


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

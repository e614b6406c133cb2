"""Security headers on every response, and the CORS policy for browser clients.

The API answers JSON to programs, so the headers here mostly make sure a browser never does
anything else with a response: never sniff it into HTML, never frame it, never leak its URL (a
private video's media URLs carry a token) in a ``Referer``, and never keep a copy of it.
Responses that choose their own caching (media: immutable segments, signed-URL lifetimes) keep it;
every other response is ``no-store``, which covers all that carries personal data (``/me``, the
token endpoints, registration) without a list to keep up to date.
"""

from __future__ import annotations

import msgspec
from litestar.config.cors import CORSConfig
from litestar.datastructures import MutableScopeHeaders
from litestar.types import BeforeMessageSendHookHandler, Message, Scope

from core.errors import ErrorBody

HSTS = "max-age=31536000; includeSubDomains"
_ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
_DEFAULTS = {
    "Content-Security-Policy": "frame-ancestors 'none'",
    "Cache-Control": "no-store",
}


def security_headers(*, tls: bool, cors: bool) -> BeforeMessageSendHookHandler:
    """A ``before_send`` hook that adds the headers to every HTTP response, errors and 404s
    included. ``tls``: the server is reached over HTTPS only, so browsers may be told to insist.
    ``cors``: answers depend on ``Origin``, so shared caches (media is cached for a year) must
    keep one copy per origin, refused origins included."""
    always = {**_ALWAYS, **({"Strict-Transport-Security": HSTS} if tls else {})}

    async def add(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        headers = MutableScopeHeaders.from_message(message)
        for name, value in always.items():
            headers[name] = value
        for name, value in _DEFAULTS.items():
            if name not in headers:
                headers[name] = value
        vary = [part.strip() for part in headers.get("Vary", "").split(",") if part.strip()]
        if cors and "origin" not in (part.lower() for part in vary):
            headers["Vary"] = ", ".join([*vary, "Origin"])

    return add


def cors_config(origins: str) -> CORSConfig | None:
    """The CORS policy for ``origins`` (comma- or space-separated; ``*`` for any); none when empty.

    Credentials are bearer tokens in ``Authorization``, never cookies, so no request needs
    ``Access-Control-Allow-Credentials``. The exposed headers are the ones clients act on.
    """
    allowed = [origin.strip().rstrip("/") for origin in origins.replace(",", " ").split() if origin.strip()]
    if not allowed:
        return None
    return CORSConfig(
        allow_origins=allowed,
        allow_methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=["Authorization", "Content-Type", "If-None-Match", "Range"],
        expose_headers=[
            "Retry-After",
            "ETag",
            "Content-Range",
            "Accept-Ranges",
            "Content-Length",
            "Location",
        ],
        allow_credentials=False,
        max_age=600,
    )


async def cors_refusal_as_error(message: Message, scope: Scope) -> None:
    """A ``before_send`` hook: Litestar refuses a CORS preflight (an origin, method or header not
    allowed) with a plain-text 400; give it the error shape every other error has."""
    if message["type"] == "http.response.start":
        headers = MutableScopeHeaders.from_message(message)
        if (
            scope.get("method") == "OPTIONS"
            and message["status"] == 400
            and headers.get("content-type", "").startswith("text/plain")
        ):
            scope.setdefault("state", {})["cors_refused"] = True
            headers["Content-Type"] = "application/json"
            del headers["Content-Length"]  # the body is replaced below; sent with chunked framing
    elif message["type"] == "http.response.body" and scope.get("state", {}).get("cors_refused"):
        reason = message.get("body", b"").decode(errors="replace")  # "Disallowed CORS Origin"
        text = f"{reason}: this origin, method or header may not call the API from a browser"
        message["body"] = msgspec.json.encode(ErrorBody(error="cors_refused", message=text))

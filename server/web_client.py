"""The web client (``web/dist``, built by ``npm run build``) served at ``/``.

A page request (``Accept: text/html``) that no API route answers gets ``index.html``, so the
client's own router can show deep links (``/watch/<id>``) after a reload; programs asking for
anything else get the JSON 404 as before, and a path under one of the API's first segments
(``/videos``, ``/media``, ``/schema``, ...) keeps the API's JSON 404, so a typo in an API call
never turns into a page of HTML. Files under ``/assets/`` carry a content hash in their names and
are cached for a year; ``index.html`` is never cached, so a new build is seen on the next visit.
Without a build, ``/`` says how to make one, and the API works as ever.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path, PurePosixPath
from typing import Any

from litestar import Litestar, Request, Response, route
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath
from litestar.routes import HTTPRoute, WebSocketRoute

from core.errors import NotFound

DEFAULT_DIST = Path(__file__).resolve().parent.parent / "web" / "dist"
IMMUTABLE = "public, max-age=31536000, immutable"
# What the client's page may load: its own files, media and thumbnails wherever the API points
# (S3 may hand out presigned URLs), hls.js's blob: media sources, and the websocket.
PAGE_CSP = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data: blob: https:",
        "media-src 'self' blob: https:",
        "connect-src 'self' ws: wss: https:",
        "style-src 'self' 'unsafe-inline'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# Reserved even when the route is absent (media needs storage configured) or is no plain route.
ALWAYS_API = frozenset({"schema", "media", "ws", "health"})
NOT_BUILT = (
    "The MyDRTV web client is not built. Build it with `make run` (needs Node.js and npm) or "
    "`cd web && npm ci && npm run build`. The API is served as usual; its description is at "
    "/schema/openapi.json.\n"
)


def dist_dir(setting: str) -> Path:
    """The built client's directory: the setting when given, else the checkout's ``web/dist``."""
    return Path(setting).resolve() if setting else DEFAULT_DIST


def _api_prefixes(app: Litestar) -> frozenset[str]:
    """First path segments of every route but the client's own: never answered with the page."""
    prefixes = set(ALWAYS_API)
    for known in app.routes:
        if isinstance(known, HTTPRoute | WebSocketRoute) and not _is_client_route(known):
            first = known.path.strip("/").split("/", 1)[0]
            if first and not first.startswith("{"):
                prefixes.add(first)
    return frozenset(prefixes)


def _is_client_route(route: HTTPRoute | WebSocketRoute) -> bool:
    return isinstance(route, HTTPRoute) and any(h.opt.get("web_client") for h in route.route_handlers)


def _page(dist: Path, *, head: bool) -> Response[Any]:
    index = dist / "index.html"
    if not index.is_file():
        return Response(
            content=NOT_BUILT, media_type="text/plain; charset=utf-8", headers={"Cache-Control": "no-store"}
        )
    body = b"" if head else index.read_bytes()
    return Response(
        content=body,
        media_type="text/html; charset=utf-8",
        headers={"Cache-Control": "no-store", "Content-Security-Policy": PAGE_CSP},
    )


def _file(dist: Path, relative: PurePosixPath) -> Path | None:
    """A file of the build, never one outside it (``..``, symlinks out)."""
    if any(part in {"", ".", ".."} for part in relative.parts):
        return None
    candidate = (dist / relative).resolve()
    if not candidate.is_relative_to(dist.resolve()) or not candidate.is_file():
        return None
    return candidate


def web_client_handlers(setting: str) -> list[HTTPRouteHandler]:
    """The two route handlers that serve the client from ``dist_dir(setting)``."""
    dist = dist_dir(setting)
    prefixes: dict[str, frozenset[str]] = {}

    @route("/", http_method=["GET", "HEAD"], include_in_schema=False, opt={"web_client": True})
    async def home(request: Request[Any, Any, Any]) -> Response[Any]:
        return _page(dist, head=request.method == "HEAD")

    @route("/{path:path}", http_method=["GET", "HEAD"], include_in_schema=False, opt={"web_client": True})
    async def client(request: Request[Any, Any, Any], path: FromPath[str]) -> Response[Any]:
        if "api" not in prefixes:
            prefixes["api"] = _api_prefixes(request.app)
        relative = PurePosixPath(path.lstrip("/"))
        first = relative.parts[0] if relative.parts else ""
        if first in prefixes["api"]:
            raise NotFound(f"no route for {request.method} {request.url.path}")
        head = request.method == "HEAD"
        found = _file(dist, relative)
        if found is not None and found.name != "index.html":
            media_type = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
            caching = IMMUTABLE if first == "assets" else "no-cache"
            return Response(
                content=b"" if head else found.read_bytes(),
                media_type=media_type,
                headers={"Cache-Control": caching},
            )
        wants_page = "text/html" in request.headers.get("accept", "")
        if first == "assets" or relative.suffix or not wants_page:
            raise NotFound(f"no route for {request.method} {request.url.path}")
        return _page(dist, head=head)

    return [home, client]

"""The README's endpoint table names every route of the app, so a new endpoint cannot go unlisted."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.routes import HTTPRoute, WebSocketRoute
from litestar.testing import AsyncTestClient

README = Path(__file__).parents[2] / "README.md"
_PATH = re.compile(r"(/[A-Za-z0-9_{}/.:-]*)")


def _shape(path: str) -> str:
    """``/videos/{video_id}`` and ``/videos/{id}`` name the same route."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def _listed(method: str, path: str, lines: list[str]) -> bool:
    """Whether one line of the README names the path and the method together."""
    return any(
        _shape(path) in {_shape(found) for found in _PATH.findall(line)} and re.search(rf"\b{method}\b", line)
        for line in lines
    )


def _routes(app: Litestar) -> set[tuple[str, str]]:
    routes = {
        (method, route.path_format)
        for route in app.routes
        if isinstance(route, HTTPRoute)
        and not route.path_format.startswith("/schema")
        and not any(handler.opt.get("web_client") for handler in route.route_handlers)  # pages, not API
        for method in route.methods
        if method != "OPTIONS"
    }
    return routes | {("GET", route.path_format) for route in app.routes if isinstance(route, WebSocketRoute)}


async def test_the_readme_lists_every_endpoint(
    app_client: Callable[..., AsyncTestClient[Any]], tmp_path: Path
) -> None:
    async with app_client(storage_url=tmp_path.as_uri()) as api:  # with media: every route exists
        assert isinstance(api.app, Litestar)
        routes = _routes(api.app)
    lines = [line for line in README.read_text().splitlines() if line.startswith("| `")]
    assert len(routes) > 60 and ("POST", "/videos") in routes and ("GET", "/ws") in routes
    missing = sorted(f"{method} {path}" for method, path in routes if not _listed(method, path, lines))
    assert missing == []

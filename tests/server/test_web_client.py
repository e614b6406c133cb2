"""The web client served at ``/``: SPA fallback for pages, never in the way of the API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from server.web_client import IMMUTABLE

Client = AsyncTestClient[Any]
PAGE = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}  # what a browser's navigation sends
INDEX = b'<!doctype html><html><head><script type="module" src="/assets/index-abc123.js"></script></head>'
SCRIPT = b"console.log('hello');"


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small build: index.html, one hashed asset, one root file, and a secret beside it."""
    root = tmp_path_factory.mktemp("web")
    (root / "secret.txt").write_text("not part of the build")
    built = root / "dist"
    (built / "assets").mkdir(parents=True)
    (built / "index.html").write_bytes(INDEX)
    (built / "assets" / "index-abc123.js").write_bytes(SCRIPT)
    (built / "robots.txt").write_text("User-agent: *\n")
    (built / "assets" / "escape.js").symlink_to(root / "secret.txt")
    return built


@pytest.fixture
async def web(app_client: Callable[..., Client], dist: Path) -> AsyncIterator[Client]:
    async with app_client(web_dist_dir=str(dist)) as client:
        yield client


def _is_page(response: Any) -> bool:
    return bool(response.status_code == 200 and response.content == INDEX)


async def test_the_page_is_served_at_the_root_and_never_cached(web: Client) -> None:
    response = await web.get("/")
    assert _is_page(response)
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-store"
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


async def test_head_of_the_page_has_no_body(web: Client) -> None:
    response = await web.head("/")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-type"].startswith("text/html")


async def test_a_deep_link_gets_the_page_so_the_client_router_shows_it(web: Client) -> None:
    for path in ("/watch/123", "/party/abc", "/signin", "/people/ada?tab=friends"):
        assert _is_page(await web.get(path, headers=PAGE)), path


async def test_a_program_asking_for_json_gets_the_error_shape_not_the_page(web: Client) -> None:
    response = await web.get("/watch/123", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


async def test_hashed_assets_are_cached_for_a_year(web: Client) -> None:
    response = await web.get("/assets/index-abc123.js")
    assert response.status_code == 200
    assert response.content == SCRIPT
    assert response.headers["cache-control"] == IMMUTABLE
    assert "javascript" in response.headers["content-type"]


async def test_other_files_of_the_build_are_served_but_revalidated(web: Client) -> None:
    response = await web.get("/robots.txt")
    assert response.status_code == 200
    assert response.text == "User-agent: *\n"
    assert response.headers["cache-control"] == "no-cache"


async def test_a_missing_asset_is_a_404_not_the_page(web: Client) -> None:
    for path in ("/assets/index-old999.js", "/favicon.ico"):
        response = await web.get(path, headers=PAGE)
        assert response.status_code == 404, path
        assert response.json()["error"] == "not_found"


async def test_nothing_outside_the_build_is_served(web: Client) -> None:
    for path in ("/assets/escape.js", "/%2e%2e/secret.txt", "/assets/..%2f..%2fsecret.txt"):
        response = await web.get(path, headers=PAGE)
        assert response.status_code == 404, path
        assert b"not part of the build" not in response.content


async def test_api_routes_are_never_shadowed(web: Client) -> None:
    videos = await web.get("/videos", headers=PAGE)
    assert videos.status_code == 200
    assert videos.headers["content-type"].startswith("application/json")
    schema = await web.get("/schema/openapi.json", headers=PAGE)
    assert schema.status_code == 200
    assert "/" not in schema.json()["paths"] and "/{path}" not in schema.json()["paths"]
    assert (await web.get("/health/live", headers=PAGE)).json()


async def test_unknown_paths_under_api_prefixes_keep_the_json_404(web: Client) -> None:
    for path in ("/videos/not-a-route/at/all", "/media/nothing", "/ws/x", "/me/nothing"):
        response = await web.get(path, headers=PAGE)
        assert response.status_code == 404, path
        assert response.json()["error"] == "not_found", path
    schema = await web.get("/schema/nothing", headers=PAGE)  # the OpenAPI router's own 404
    assert schema.status_code == 404
    assert schema.content != INDEX


async def test_without_a_build_the_root_says_how_to_make_one(
    app_client: Callable[..., Client], tmp_path: Path
) -> None:
    async with app_client(web_dist_dir=str(tmp_path / "absent")) as client:
        root = await client.get("/")
        deep = await client.get("/watch/123", headers=PAGE)
        health = await client.get("/health/live")
    for response in (root, deep):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        assert "npm run build" in response.text
        assert "API is served" in response.text
    assert health.status_code == 200

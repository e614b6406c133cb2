"""The served OpenAPI document: valid, complete, and true to what the API answers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient
from openapi_spec_validator import validate

from server import openapi

METHODS = ("get", "put", "post", "patch", "delete", "head")
ERROR_REF = "#/components/schemas/Error"
SECURITY_KINDS = {"[]": "none", "[{'bearer': []}]": "required", "[{}, {'bearer': []}]": "optional"}
WRONG_PASSWORD = {"grant_type": "password", "username": "x@example.com", "password": "x"}


@pytest.fixture(scope="module")
def media_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("openapi-media")


@pytest.fixture
async def api(
    app_client: Callable[..., AsyncTestClient[Any]], media_root: Path
) -> AsyncIterator[AsyncTestClient[Any]]:
    """The app with media configured, so that every route exists."""
    async with app_client(storage_url=media_root.as_uri()) as client:
        yield client


@pytest.fixture
async def document(api: AsyncTestClient[Any]) -> dict[str, Any]:
    response = await api.get("/schema/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        section, kind, name = node["$ref"].removeprefix("#/").split("/")
        node = document[section][kind][name]
    return node


async def test_the_document_is_valid_openapi(document: dict[str, Any]) -> None:
    validate(document)


async def test_every_route_of_the_app_is_documented(
    api: AsyncTestClient[Any], document: dict[str, Any]
) -> None:
    app = api.app
    assert isinstance(app, Litestar)
    routes = {
        (method, route.path_format)
        for route in app.routes
        if isinstance(route, HTTPRoute)
        and not route.path_format.startswith("/schema")
        and not any(handler.opt.get("web_client") for handler in route.route_handlers)  # pages, not API
        for method in route.methods
        if method != "OPTIONS"
    }
    documented = {(method, path) for method, path, _ in operations(document)}
    assert routes - documented == set()
    for path in (
        "/videos",
        "/videos/{video_id}/media",
        "/media/{video_id}/{generation}/{path}",
        "/auth/token",
    ):
        assert path in document["paths"]


async def test_every_line_of_the_tables_names_an_operation(api: AsyncTestClient[Any]) -> None:
    """A renamed route must not leave its statuses or bodies behind, silently undocumented."""
    assert isinstance(api.app, Litestar)
    known = {f"{method} {path}" for method, path, _ in openapi.operations(api.app)}
    for table in (openapi.EXTRA_STATUSES, openapi.REQUEST_BODIES, openapi.SUCCESS):
        assert set(table) - known == set()


async def test_every_operation_declares_its_security(document: dict[str, Any]) -> None:
    scheme = document["components"]["securitySchemes"]["bearer"]
    assert scheme == {**scheme, "type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    kinds: dict[str, str] = {}
    for method, path, operation in operations(document):
        security = operation["security"]
        kind = SECURITY_KINDS[str(security)]
        kinds[f"{method} {path}"] = kind
        assert (401 in statuses(operation)) == (kind != "none" or path == "/auth/token"), (method, path)
    assert kinds["GET /me"] == "required"
    assert kinds["POST /videos"] == "required"
    assert kinds["GET /videos/{video_id}"] == "optional"
    assert kinds["GET /videos/{video_id}/comments"] == "optional"
    assert kinds["POST /accounts"] == "none"
    assert kinds["POST /auth/token"] == "none"
    assert kinds["GET /media/{video_id}/{generation}/{path}"] == "none"


def statuses(operation: dict[str, Any]) -> set[int]:
    return {int(status) for status in operation["responses"]}


async def test_error_answers_use_our_error_shape(document: dict[str, Any]) -> None:
    error = document["components"]["schemas"]["Error"]
    assert error["required"] == ["error", "message"]
    assert {"error", "message", "details"} <= set(error["properties"])
    for method, path, operation in operations(document):
        for status, response in operation["responses"].items():
            if int(status) < 400 or int(status) == 416:
                continue
            response = resolve(document, response)
            where = f"{method} {path} {status}"
            assert response["content"] == {"application/json": {"schema": {"$ref": ERROR_REF}}}, where
            if status in ("429", "503"):
                assert response["headers"]["Retry-After"]["schema"]["type"] == "integer"


@pytest.mark.parametrize(
    ("operation", "expected"),
    [
        ("GET /me", {401, 404, 503}),
        ("POST /accounts", {400, 409, 413, 415, 429, 503}),
        ("POST /auth/token", {400, 401, 413, 429, 503}),
        ("POST /videos", {400, 401, 413, 415, 503}),
        ("PATCH /videos/{video_id}", {400, 401, 403, 404, 413, 415, 503}),
        ("POST /videos/{video_id}/comments", {400, 401, 403, 404, 413, 415, 429, 503}),
        ("PUT /videos/{video_id}/media", {400, 401, 403, 404, 413, 422, 503}),
        ("POST /moderation/held-words", {400, 401, 403, 404, 409, 413, 415, 503}),
        ("GET /health/ready", {503}),
        ("GET /health/live", set()),
    ],
)
async def test_operations_list_the_errors_they_answer(
    document: dict[str, Any], operation: str, expected: set[int]
) -> None:
    method, path = operation.split(" ")
    declared = statuses(document["paths"][path][method.lower()])
    assert {status for status in declared if status >= 400} == expected


async def test_bodies_and_content_types_are_the_real_ones(document: dict[str, Any]) -> None:
    paths = document["paths"]
    token = paths["/auth/token"]["post"]["requestBody"]["content"]
    grants = token["application/x-www-form-urlencoded"]["schema"]["oneOf"]
    assert [g["properties"]["grant_type"]["const"] for g in grants] == ["password", "refresh_token"]
    assert grants[0]["required"] == ["grant_type", "username", "password"]
    assert grants[1]["required"] == ["grant_type", "refresh_token"]
    upload = paths["/videos/{video_id}/media"]["put"]["requestBody"]
    assert upload["required"] is True
    assert set(upload["content"]) == {"application/octet-stream", "video/*"}
    media = paths["/media/{video_id}/{generation}/{path}"]
    served = set(media["get"]["responses"]["200"]["content"])
    assert {"application/vnd.apple.mpegurl", "video/mp2t", "image/jpeg"} <= served
    assert "application/json" not in served
    assert "content" not in media["head"]["responses"]["200"]
    assert {"206", "304"} <= set(media["get"]["responses"])
    for method, path, operation in operations(document):
        if "204" in operation["responses"]:
            assert "content" not in operation["responses"]["204"], (method, path)
    assert "content" not in paths["/auth/revoke"]["post"]["responses"]["200"]


async def test_integer_ids_are_declared_64_bit(document: dict[str, Any]) -> None:
    for path in ("/comments/{comment_id}", "/moderation/held-words/{word_id}"):
        for operation in document["paths"][path].values():
            (parameter,) = operation["parameters"]
            assert parameter["schema"] == {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}


async def test_a_real_error_matches_the_documented_schema(
    api: AsyncTestClient[Any], document: dict[str, Any]
) -> None:
    schema = {**document["components"]["schemas"]["Error"], "additionalProperties": False}
    for response in (
        await api.get("/me"),
        await api.get("/videos?limit=0"),
        await api.post("/auth/token", data=WRONG_PASSWORD),
    ):
        assert response.status_code in {400, 401}
        jsonschema.validate(response.json(), schema)


async def test_every_list_answers_in_the_one_envelope(document: dict[str, Any]) -> None:
    """No GET answers a bare JSON array: every list is ``{items, next_cursor}``, and takes the
    ``cursor`` and ``limit`` of every paged list (docs/api.md#lists-and-cursors)."""
    lists = []
    for method, path, operation in operations(document):
        for status, response in operation["responses"].items():
            schema = response.get("content", {}).get("application/json", {}).get("schema")
            if not status.startswith("2") or schema is None:
                continue
            body = resolve(document, schema)
            assert body.get("type") != "array", f"{method} {path} answers a bare list"
            if "items" not in body.get("properties", {}):
                continue
            lists.append(f"{method} {path}")
            assert method == "GET", (method, path)
            assert set(body["properties"]) == {"items", "next_cursor"}, (path, body["properties"])
            assert resolve(document, body["properties"]["items"])["type"] == "array", path
            cursor = body["properties"]["next_cursor"]
            assert {"type": "string"} in cursor.get("oneOf", []) and {"type": "null"} in cursor["oneOf"], path
            assert "next_cursor" in body.get("required", []), path
            parameters = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
            assert "limit" in parameters, path
    assert {"GET /videos/{video_id}/members", "GET /me/recommendations/videos", "GET /me/feed"} <= set(lists)

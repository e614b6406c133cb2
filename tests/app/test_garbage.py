"""Every operation the OpenAPI document lists, fed garbage in each path parameter, query parameter
and body field, and raw bodies that are not what it wants, as an admin, a viewer and anonymously:
nothing answers 5xx, and every error has the one error shape.

Not a replacement for a property-based run over the schema; a quick net that covers new
endpoints by itself, because it reads the routes from the served document.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from core.settings import Settings
from server.factory import create_app
from tests.app.video_helpers import new_video, post, roomy
from tests.users import Person, person

Client = AsyncTestClient[Any]

IN_URLS = [
    "9223372036854775808",
    "-9223372036854775809",
    "99999999999999999999999",
    "-1",
    "0",
    "1e308",
    "nan",
    "-inf",
    "true",
    "",
    "%00",
    "%2E%2E",
    "a%5Cb",
    "%FF",
    "%C3%28",
    "x" * 3000,
]
IN_BODIES: list[Any] = [
    2**63,
    -(2**63) - 1,
    2**70,
    -1,
    0,
    1.5,
    1e308,
    True,
    None,
    [],
    {},
    "",
    "\x00",
    "\U0010ffff",
    "2026-13-45T99:00:00Z",
    "x" * 100_000,
]
RAW_BODIES = [b"null", b"[]", b'"x"', b"1e999", b"{", b"\xff", b'{"a":' * 40 + b"1" + b"}" * 40, b"[" * 5000]


class Operation(msgspec.Struct):
    method: str
    path: str
    query: list[str]
    fields: list[str]


@pytest.fixture(scope="module")
def garbage_settings(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    storage = tmp_path_factory.mktemp("storage").as_uri()
    return roomy(msgspec.structs.replace(settings, storage_url=storage, media_worker=False))


@pytest.fixture(scope="module")
async def api(garbage_settings: Settings) -> AsyncIterator[Client]:
    async with AsyncTestClient(app=create_app(garbage_settings)) as client:
        yield client


def _operations(document: dict[str, Any]) -> Iterator[Operation]:
    schemas = document.get("components", {}).get("schemas", {})
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method not in ("get", "head", "post", "put", "patch", "delete"):
                continue
            query = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
            body = (operation.get("requestBody") or {}).get("content", {}).get("application/json", {})
            ref = body.get("schema", {}).get("$ref", "")
            fields = list(schemas.get(ref.rsplit("/", 1)[-1], {}).get("properties", {})) if ref else []
            yield Operation(method.upper(), path, query, fields)


def _requests(op: Operation, good: dict[str, str]) -> Iterator[tuple[str, dict[str, str], Any]]:
    """(url, query, body) triples: one bad value at a time, the rest of the request sound."""
    names = re.findall(r"{(\w+)}", op.path)

    def url(**values: str) -> str:
        path = op.path
        for name in names:
            path = path.replace("{" + name + "}", values.get(name, good.get(name, "x")))
        return path

    for name in names:
        for value in IN_URLS:
            yield url(**{name: value}), {}, {}
    for name in op.query:
        for value in IN_URLS:
            yield url(), {name: value}, {}
    for field in op.fields:
        for garbage in IN_BODIES:
            yield url(), {}, {field: garbage}
    if op.method in ("POST", "PUT", "PATCH"):
        for raw in RAW_BODIES:
            yield url(), {}, raw
    yield url(), {}, {}


async def _send(api: Client, op: Operation, who: Person | None, url: str, query: Any, body: Any) -> Any:
    headers = dict(who.headers) if who else {}
    if op.method not in ("POST", "PUT", "PATCH"):
        return await api.request(op.method, url, params=query, headers=headers)
    raw = body if isinstance(body, bytes) else msgspec.json.encode(body)
    headers["Content-Type"] = "application/json"
    return await api.request(op.method, url, params=query, headers=headers, content=raw)


def _no_graph(response: Any) -> bool:
    """This app has no graph database: suggestions answer the documented 503 whatever the input."""
    return response.status_code == 503 and response.json()["error"] == "graph_unavailable"


async def test_garbage_never_gives_a_server_error(
    api: Client, garbage_settings: Settings, tmp_path: Path
) -> None:
    admin, viewer = await person(garbage_settings, "admin"), await person(garbage_settings)
    video = await new_video(api, admin)
    comment = str((await post(api, admin, video))["id"])
    good = {"video_id": video, "comment_id": comment, "user_id": str(viewer.id), "handle": viewer.handle}
    document = (await api.get("/schema/openapi.json")).json()
    failures: list[Any] = []
    sent = 0
    for op in _operations(document):
        for url, query, body in _requests(op, good):
            for who in (admin, viewer, None):
                response = await _send(api, op, who, url, query, body)
                sent += 1
                if response.status_code >= 500 and not _no_graph(response):
                    failures.append((op.method, url[:80], query, repr(body)[:60], response.status_code))
                elif response.status_code >= 400 and op.method != "HEAD" and response.status_code != 416:
                    error = response.json()
                    if not (isinstance(error.get("error"), str) and isinstance(error.get("message"), str)):
                        failures.append((op.method, url[:80], query, repr(body)[:60], response.text[:80]))
    print(f"{sent} requests, {len(failures)} failures")
    assert sent > 5000
    assert failures == []


BAD_HEADERS = [
    ("Authorization", b"Bearer \xff\xfe"),
    ("Authorization", b"Bearer " + b"a" * 20_000),
    ("Authorization", b"Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."),  # alg none
    ("Content-Type", b"application/json; charset=\xff"),
    ("Content-Type", b"application/json; charset=utf-16"),
    ("Content-Type", b"\xff"),
    ("Origin", b"\xff"),
    ("Accept", b"\xff/\xff"),
    ("Range", b"bytes=99999999999999999999999-"),
    ("Range", b"bytes=" + b"9" * 5000 + b"-"),
    ("If-None-Match", b"\xff"),
    ("Cookie", b"\xff=\xff"),
]


async def test_garbage_headers_never_give_a_server_error(api: Client, garbage_settings: Settings) -> None:
    admin = await person(garbage_settings, "admin")
    video = await new_video(api, admin)
    targets = [
        ("GET", "/me", None),
        ("POST", "/videos", b'{"title": "x"}'),
        ("GET", f"/videos/{video}", None),
        ("GET", f"/media/{video}/g1/master.m3u8", None),
        ("POST", "/auth/token", b"grant_type=password&username=a&password=b"),
        ("PUT", f"/videos/{video}/media", b"not a video"),
    ]
    failures = []
    for method, url, body in targets:
        for name, value in BAD_HEADERS:
            headers = {"Authorization": admin.headers["Authorization"], "Content-Type": "application/json"}
            raw = [(k.encode(), v.encode()) for k, v in headers.items() if k != name] + [
                (name.encode(), value)
            ]
            response = await api.request(method, url, content=body, headers=raw)
            if response.status_code >= 500:
                failures.append((method, url, name, value[:30], response.status_code))
    assert failures == []

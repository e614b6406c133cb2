"""The served OpenAPI document, made honest enough for generated clients.

Litestar derives paths, parameters and JSON bodies from the handlers, but knows nothing of our
bearer tokens, our error shape, the form-encoded token endpoint, the raw upload body or the
media types of HLS files. ``describe(app)`` completes the document once, on its first request:
security comes from the handler's own signature (``principal``: required, ``viewer``:
optional), the usual error statuses from what the operation takes (503 from any backend it
uses), and the rest from the small
tables below, one line per operation that answers more than its signature says.
"""

from __future__ import annotations

import inspect
from http import HTTPStatus
from typing import Any

from litestar import Litestar, Request, Router
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import (
    Components,
    OpenAPIFormat,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    PathItem,
    Reference,
    RequestBody,
    Schema,
    SecurityScheme,
)
from litestar.routes import HTTPRoute

INT64_MAX = 2**63 - 1
BEARER = "bearer"
ERROR = "Error"
SECURITY_REQUIRED: list[dict[str, list[str]]] = [{BEARER: []}]
SECURITY_OPTIONAL: list[dict[str, list[str]]] = [{}, {BEARER: []}]  # anonymous, or a token honoured
SECURITY_NONE: list[dict[str, list[str]]] = []

HLS_PLAYLIST = "application/vnd.apple.mpegurl"
MEDIA_TYPES = (HLS_PLAYLIST, "video/mp2t", "video/iso.segment", "video/mp4", "image/jpeg")
UPLOAD_TYPES = ("application/octet-stream", "video/*")
AVATAR_TYPES = ("image/jpeg", "image/png", "image/webp", "image/gif", "application/octet-stream")

_STAFF = (403,)
# Every other operation reads PostgreSQL (a token's role, if nothing else) or Redis, so it may
# answer 503 (`database_unavailable`, `bus_unavailable`, ...) while one of them is away.
NO_BACKEND = frozenset({"GET /health/live"})
# Statuses an operation answers beyond the derived ones (400 for any input, 401 with a token,
# 404 with a path parameter, 413 and 415 with a JSON body): "METHOD /path" -> statuses.
EXTRA_STATUSES: dict[str, tuple[int, ...]] = {
    "POST /accounts": (409, 429),
    "POST /auth/token": (401, 429),
    "GET /me": (404,),
    "PUT /me/consents": (404,),
    "GET /users/{user_id}/personal-data": _STAFF,
    "PUT /users/{user_id}/role": _STAFF,
    "PATCH /videos/{video_id}": (403,),
    "DELETE /videos/{video_id}": (403,),
    "GET /videos/{video_id}/members": (403,),
    "PUT /videos/{video_id}/members/{user_id}": (403, 409),
    "DELETE /videos/{video_id}/members/{user_id}": (403,),
    "POST /parties": (403, 404, 409),
    "PATCH /parties/{party_id}": (403, 409),
    "POST /parties/{party_id}/join": (403, 409),
    "POST /parties/{party_id}/leave": (403, 409),
    "PUT /parties/{party_id}/host": (403, 409),
    "POST /parties/{party_id}/invite": (403, 409),
    "POST /parties/{party_id}/invitations": (403, 409),
    "GET /parties/{party_id}/messages": (403,),
    "POST /videos/{video_id}/comments": (403, 429),
    "PATCH /comments/{comment_id}": (403, 429),
    "DELETE /comments/{comment_id}": (403,),
    "POST /comments/{comment_id}/reports": (403, 409, 429),
    "PUT /videos/{video_id}/rating": (403, 429),
    "DELETE /videos/{video_id}/rating": (403, 429),
    "GET /moderation/queue": _STAFF,
    "POST /moderation/comments/{comment_id}/approve": (403, 409),
    "POST /moderation/comments/{comment_id}/remove": (403, 409),
    "GET /moderation/restrictions": _STAFF,
    "POST /moderation/restrictions": (403, 404),
    "POST /moderation/restrictions/{restriction_id}/lift": (403, 409),
    "PUT /videos/{video_id}/slow-mode": _STAFF,
    "GET /moderation/held-words": _STAFF,
    "POST /moderation/held-words": (403, 404, 409),
    "DELETE /moderation/held-words/{word_id}": _STAFF,
    "GET /moderation/log": _STAFF,
    "PUT /me/following/{user_id}": (403, 409),
    "GET /videos/{video_id}/playback": (409,),
    "PUT /videos/{video_id}/media": (403, 413, 422),
    "GET /media/{video_id}/{generation}/{path}": (403, 416),
    "HEAD /media/{video_id}/{generation}/{path}": (403, 416),
    "GET /media/t/{token}/{video_id}/{generation}/{path}": (403, 416),
    "HEAD /media/t/{token}/{video_id}/{generation}/{path}": (403, 416),
    "GET /media/l/{signature}/{expires}/{video_id}/{generation}/{path}": (403, 416),
    "HEAD /media/l/{signature}/{expires}/{video_id}/{generation}/{path}": (403, 416),
    "PATCH /me/profile": (404,),
    "PUT /me/avatar": (413, 422),
    "POST /me/export": (409,),
    "GET /me/export": (404,),
    "GET /privacy/exports/{token}": (403,),
    "DELETE /me": (403, 409),
    "GET /me/erasure": (404,),
    "DELETE /users/{user_id}": (403, 409),
    "POST /users/{user_id}/export": (403, 409),
    "GET /users/{user_id}/export": _STAFF,
}

_STRING = Schema(type=OpenAPIType.STRING)
_BINARY = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)


def _header(description: str, schema: Schema = _STRING) -> OpenAPIHeader:
    return OpenAPIHeader(schema=schema, description=description)


def _form(properties: dict[str, Schema | Reference], required: list[str]) -> Schema:
    return Schema(type=OpenAPIType.OBJECT, properties=properties, required=required)


def _grant(name: str, **fields: Schema | Reference) -> Schema:
    return _form(
        {"grant_type": Schema(type=OpenAPIType.STRING, const=name), **fields}, ["grant_type", *fields]
    )


TOKEN_FORM = Schema(
    one_of=[
        _grant(
            "password", username=Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.EMAIL), password=_STRING
        ),
        _grant("refresh_token", refresh_token=_STRING),
    ]
)
REVOKE_FORM = _form({"token": _STRING, "token_type_hint": _STRING}, ["token"])


def _form_body(schema: Schema) -> RequestBody:
    return RequestBody(
        content={"application/x-www-form-urlencoded": OpenAPIMediaType(schema=schema)}, required=True
    )


REQUEST_BODIES: dict[str, RequestBody] = {
    "POST /auth/token": _form_body(TOKEN_FORM),
    "POST /auth/revoke": _form_body(REVOKE_FORM),
    "PUT /videos/{video_id}/media": RequestBody(
        content={name: OpenAPIMediaType(schema=_BINARY) for name in UPLOAD_TYPES},
        required=True,
        description="the video's source file, as it is",
    ),
    "PUT /me/avatar": RequestBody(
        content={name: OpenAPIMediaType(schema=_BINARY) for name in AVATAR_TYPES},
        required=True,
        description="the picture, as it is (its type is read from its bytes, not from Content-Type)",
    ),
}

_CACHING: dict[str, OpenAPIHeader | Reference] = {
    "ETag": _header("the file's validator"),
    "Cache-Control": _header("immutable for public media, private for signed URLs"),
    "Accept-Ranges": _header("always `bytes`"),
}


def _media_file(head: bool) -> dict[str, OpenAPIResponse | Reference]:
    """The answers of a media file: the body only for GET, ranges and validators for both."""
    content = None if head else {name: OpenAPIMediaType(schema=_BINARY) for name in MEDIA_TYPES}
    return {
        "200": OpenAPIResponse("the whole file", headers=_CACHING, content=content),
        "206": OpenAPIResponse(
            "the requested range",
            headers={**_CACHING, "Content-Range": _header("`bytes START-END/SIZE`")},
            content=content,
        ),
        "302": OpenAPIResponse(
            "a presigned storage URL (redirects enabled, segments and posters only)",
            headers={"Location": _header("where the file is")},
        ),
        "304": OpenAPIResponse("not modified (If-None-Match)", headers=_CACHING),
    }


def _avatar_file(head: bool) -> dict[str, OpenAPIResponse | Reference]:
    content = None if head else {"image/webp": OpenAPIMediaType(schema=_BINARY)}
    caching: dict[str, OpenAPIHeader | Reference] = {
        "ETag": _header("the image's validator"),
        "Cache-Control": _header("public and immutable: an avatar's URL names its content"),
    }
    return {
        "200": OpenAPIResponse("the image", headers=caching, content=content),
        "302": OpenAPIResponse(
            "a presigned storage URL (redirects enabled)", headers={"Location": _header("where the image is")}
        ),
        "304": OpenAPIResponse("not modified (If-None-Match)", headers=caching),
    }


# Success answers that Litestar cannot see, replacing the ones it derived.
SUCCESS: dict[str, dict[str, OpenAPIResponse | Reference]] = {
    "POST /auth/revoke": {"200": OpenAPIResponse("revoked (or already unknown); no body")},
    "GET /media/{video_id}/{generation}/{path}": _media_file(head=False),
    "HEAD /media/{video_id}/{generation}/{path}": _media_file(head=True),
    "GET /media/t/{token}/{video_id}/{generation}/{path}": _media_file(head=False),
    "HEAD /media/t/{token}/{video_id}/{generation}/{path}": _media_file(head=True),
    "GET /media/l/{signature}/{expires}/{video_id}/{generation}/{path}": _media_file(head=False),
    "HEAD /media/l/{signature}/{expires}/{video_id}/{generation}/{path}": _media_file(head=True),
    "GET /avatars/{user_id}/{digest}/{name}": _avatar_file(head=False),
    "HEAD /avatars/{user_id}/{digest}/{name}": _avatar_file(head=True),
    "GET /privacy/exports/{token}": {
        "200": OpenAPIResponse(
            "the export archive (zip)", content={"application/zip": OpenAPIMediaType(schema=_BINARY)}
        )
    },
}

ERROR_SCHEMA = Schema(
    type=OpenAPIType.OBJECT,
    required=["error", "message"],
    properties={
        "error": Schema(type=OpenAPIType.STRING, description="machine-readable code"),
        "message": Schema(type=OpenAPIType.STRING, description="human-readable text"),
        "details": Schema(description="more about the error, when there is more; any JSON"),
        "error_description": Schema(type=OpenAPIType.STRING, description="OAuth2 errors only"),
    },
    description="every error answer: {error, message, details}",
)


def _error_response(status: int) -> OpenAPIResponse:
    headers: dict[str, OpenAPIHeader | Reference] | None = None
    if status == 401:
        headers = {"WWW-Authenticate": _header("`Bearer`")}
    elif status in (429, 503):
        headers = {
            "Retry-After": _header("seconds to wait", Schema(type=OpenAPIType.INTEGER, minimum=1)),
        }
    # The range error is the one error answered without a body.
    content = (
        None if status == 416 else {"application/json": OpenAPIMediaType(schema=_ref(f"schemas/{ERROR}"))}
    )
    return OpenAPIResponse(description=HTTPStatus(status).phrase, headers=headers, content=content)


def _ref(name: str) -> Reference:
    return Reference(ref=f"#/components/{name}")


def security_of(handler: HTTPRouteHandler) -> list[dict[str, list[str]]]:
    """Who may call: the ``principal`` dependency needs a token, ``viewer`` honours one.

    A dependency built on ``principal`` (the moderation controller's ``moderator``) needs one too."""
    names = set(handler.parsed_fn_signature.parameters)
    provided = handler.resolve_dependencies()
    for name in list(names):
        if name in provided:
            names |= set(inspect.signature(provided[name].dependency).parameters)
    if "principal" in names:
        return SECURITY_REQUIRED
    if "viewer" in names:
        return SECURITY_OPTIONAL
    return SECURITY_NONE


def _statuses(key: str, operation: Operation, security: list[dict[str, list[str]]], path: str) -> set[int]:
    statuses = set(EXTRA_STATUSES.get(key, ()))
    if key not in NO_BACKEND:
        statuses.add(503)
    if operation.parameters or operation.request_body:
        statuses.add(400)
    if security:
        statuses.add(401)
    if "{" in path:
        statuses.add(404)
    if operation.request_body is not None:
        statuses.add(413)
        content = operation.request_body.content if isinstance(operation.request_body, RequestBody) else {}
        if "application/json" in content:
            statuses.add(415)
    return statuses


def _bigint_ids(operation: Operation) -> None:
    """Integer ids in paths are PostgreSQL bigserials: say so, so clients use 64-bit integers.

    Exact integers, not the bounds Litestar derives from ``core.params.IdPath``: it writes them as
    floats, and 2**63 - 1 as a float rounds up to 2**63, which no id can be."""
    for parameter in operation.parameters or ():
        if not isinstance(parameter, Parameter) or parameter.param_in != "path":
            continue
        schema = parameter.schema
        if isinstance(schema, Schema) and schema.type == OpenAPIType.INTEGER:
            schema.minimum = 1
            schema.maximum = INT64_MAX


def _complete(key: str, operation: Operation, handler: HTTPRouteHandler, path: str) -> None:
    _bigint_ids(operation)
    if key in REQUEST_BODIES:
        operation.request_body = REQUEST_BODIES[key]
    operation.security = security_of(handler)
    derived = operation.responses or {}
    responses: dict[str, OpenAPIResponse | Reference] = SUCCESS.get(key) or {
        status: response for status, response in derived.items() if int(status) < 400
    }
    for status in sorted(_statuses(key, operation, operation.security, path)):
        responses[str(status)] = _ref(f"responses/{status}")
    operation.responses = responses


def operations(app: Litestar) -> list[tuple[str, str, HTTPRouteHandler]]:
    """Every documented HTTP operation of the app: (method, path, handler)."""
    found: list[tuple[str, str, HTTPRouteHandler]] = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if not handler.resolve_include_in_schema():
                continue
            for method in sorted(handler.http_methods):
                if method != "OPTIONS":
                    found.append((str(method), route.path_format, handler))
    return found


def config() -> OpenAPIConfig:
    """Where the document is served (``/schema/openapi.json``) and the bearer scheme. The
    document is built and completed on its first request, not with every app (tests build
    hundreds of apps; building the document costs more than the rest of ``create_app``)."""
    scheme = SecurityScheme(
        type="http", scheme="bearer", bearer_format="JWT", description="an access token from POST /auth/token"
    )
    return OpenAPIConfig(
        title="MyDRTV social layer",
        version="0.1.0",
        path="/schema",
        components=Components(security_schemes={BEARER: scheme}),
        security=SECURITY_NONE,
        openapi_router=Router(
            "/schema", route_handlers=[], include_in_schema=False, before_request=_described
        ),
    )


def _described(request: Request[Any, Any, Any]) -> None:
    describe(request.app)


def describe(app: Litestar) -> None:
    """Complete the app's OpenAPI document in place, before it is first served; once."""
    document = app.openapi_schema
    components = document.components if isinstance(document.components, Components) else Components()
    if ERROR in components.schemas:
        return
    components.schemas[ERROR] = ERROR_SCHEMA
    used: set[str] = set()
    paths: dict[str, PathItem] = document.paths or {}
    for method, path, handler in operations(app):
        operation = getattr(paths[path], method.lower(), None)
        if not isinstance(operation, Operation):
            continue
        _complete(f"{method} {path}", operation, handler, path)
        used.update(status for status in (operation.responses or {}) if int(status) >= 400)
    components.responses = {status: _error_response(int(status)) for status in sorted(used)}
    document.components = components
    # Litestar keeps a handler's paths in a set: without this the order, and so the document's
    # bytes, would change with each process's string hashing.
    document.paths = dict(sorted(paths.items()))


def document(app: Litestar) -> dict[str, Any]:
    """The completed document as plain JSON data, as ``/schema/openapi.json`` serves it."""
    describe(app)
    return app.openapi_schema.to_schema()

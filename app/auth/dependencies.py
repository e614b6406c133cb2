"""Who is calling: the bearer token of a request turned into a ``Principal``.

The token proves who the caller is; the role and the account's existence are read now
(``Principals``), so a role change or an erasure applies to the next request.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import NamedDependency

from app.auth.principals import Principals
from core.errors import Forbidden, Unauthorized
from core.tokens import Principal


def bearer_token(request: Request[Any, Any, Any]) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def provide_principal(
    request: Request[Any, Any, Any], principals: NamedDependency[Principals]
) -> Principal:
    """The ``principal`` dependency: endpoints that declare it need a valid access token of an
    account that still exists (401 ``account_gone`` otherwise)."""
    token = bearer_token(request)
    if token is None:
        raise Unauthorized("this endpoint needs a bearer access token", code="unauthenticated")
    return await principals.verify(token)


async def provide_viewer(
    request: Request[Any, Any, Any], principals: NamedDependency[Principals]
) -> Principal | None:
    """The ``viewer`` dependency: for endpoints open to anonymous callers that show signed-in
    callers more. A token that is present but invalid is still refused, never ignored."""
    token = bearer_token(request)
    return None if token is None else await principals.verify(token)


def require_role(principal: Principal, *roles: str) -> None:
    if not principal.has_role(*roles):
        raise Forbidden(f"this needs the role {' or '.join(roles)}", code="forbidden_role")

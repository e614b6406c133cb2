"""OAuth2 token endpoints: the password and refresh_token grants (RFC 6749), revocation (RFC 7009)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, post
from litestar.di import NamedDependency

from app.accounts.schemas import TokenResponse
from app.accounts.service import AccountService, normalise_email
from app.auth.hooks import SignInHooks
from app.auth.ratelimit import LoginLimiter
from app.auth.refresh import RefreshTokens
from core.errors import BadRequest, OAuthError
from core.tokens import AccessTokens, Principal

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


async def _form(request: Request[Any, Any, Any]) -> dict[str, str]:
    if request.content_type[0] != "application/x-www-form-urlencoded":
        raise OAuthError("invalid_request", "send the parameters form-encoded")
    form = await request.form()
    return {key: str(value) for key, value in form.items()}


def _account_key(username: str) -> str:
    """The account a login attempt counts against: the email exactly as login looks it up, so no
    other spelling of it (spaces, case) gets a fresh budget."""
    try:
        return normalise_email(username)
    except BadRequest:
        return username.strip().lower()  # no such account; still one budget per spelling


def _required(form: dict[str, str], *names: str) -> list[str]:
    missing = [name for name in names if not form.get(name)]
    if missing:
        raise OAuthError("invalid_request", f"missing parameter(s): {', '.join(missing)}")
    return [form[name] for name in names]


class TokenController(Controller):
    path = "/auth"
    tags = ("auth",)

    @post("/token", status_code=200)
    async def token(
        self,
        request: Request[Any, Any, Any],
        accounts: NamedDependency[AccountService],
        access_tokens: NamedDependency[AccessTokens],
        refresh_tokens: NamedDependency[RefreshTokens],
        login_limiter: NamedDependency[LoginLimiter],
        sign_in_hooks: NamedDependency[SignInHooks],
    ) -> Response[TokenResponse]:
        """Exchange an email and password, or a refresh token, for an access and refresh token."""
        form = await _form(request)
        grant = form.get("grant_type", "")
        if grant == "password":
            username, password = _required(form, "username", "password")
            address = request.client.host if request.client else "unknown"
            await login_limiter.attempt(account=_account_key(username), address=address)
            principal = await accounts.authenticate(username, password)
            if principal is None:
                raise OAuthError("invalid_grant", "invalid email or password", status_code=401)
            await sign_in_hooks.signed_in(principal.id)  # e.g. cancels an erasure in its grace period
            refresh = await refresh_tokens.issue(principal.id)
        elif grant == "refresh_token":
            (presented,) = _required(form, "refresh_token")
            account, refresh = await refresh_tokens.rotate(presented)
            principal = await accounts.principal(account)
        elif not grant:
            raise OAuthError("invalid_request", "missing parameter(s): grant_type")
        else:
            raise OAuthError("unsupported_grant_type", f"grant_type {grant!r} is not supported")
        return _tokens(principal, refresh, access_tokens)

    @post("/revoke", status_code=200)
    async def revoke(
        self, request: Request[Any, Any, Any], refresh_tokens: NamedDependency[RefreshTokens]
    ) -> Response[None]:
        """Log out: revoke a refresh token and every token rotated from the same login."""
        (token,) = _required(await _form(request), "token")
        await refresh_tokens.revoke(token)
        return Response(content=None, status_code=200, headers=_NO_STORE)


def _tokens(principal: Principal, refresh: str, access: AccessTokens) -> Response[TokenResponse]:
    body = TokenResponse(
        access_token=access.issue(principal),
        token_type="Bearer",
        expires_in=access.lifetime_seconds,
        refresh_token=refresh,
    )
    return Response(content=body, headers=_NO_STORE)

"""REST endpoints of accounts: register, ``/me``, public profiles and role grants."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, post, put

from app.accounts.schemas import Me, PublicUser, Registration, RoleChange
from app.accounts.service import AccountService
from app.auth.dependencies import principal_of, require_role
from app.auth.tokens import AccessTokens


class AccountController(Controller):
    tags = ("accounts",)

    @post("/accounts", status_code=201)
    async def register(self, data: Registration, accounts: AccountService) -> PublicUser:
        """Create an account; the handle is public, everything else stays in the identity store."""
        return await accounts.register(data)

    @get("/me")
    async def me(
        self, request: Request[Any, Any, Any], accounts: AccountService, access_tokens: AccessTokens
    ) -> Me:
        """The caller's own record, personal data included."""
        return await accounts.me(principal_of(request, access_tokens).id)

    @get("/users/{handle:str}")
    async def by_handle(self, handle: str, accounts: AccountService) -> PublicUser:
        """A user's public record."""
        return await accounts.by_handle(handle)

    @put("/users/{user_id:uuid}/role")
    async def set_role(
        self,
        user_id: uuid.UUID,
        data: RoleChange,
        request: Request[Any, Any, Any],
        accounts: AccountService,
        access_tokens: AccessTokens,
    ) -> PublicUser:
        """Grant a role (admins only); it takes effect at the user's next token refresh."""
        actor = principal_of(request, access_tokens)
        require_role(actor, "admin")
        return await accounts.set_role(actor, user_id, data.role)

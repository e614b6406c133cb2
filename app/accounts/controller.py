"""REST endpoints of accounts: register, ``/me`` and role grants (public profiles: ``app/profiles``)."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from app.accounts.schemas import ConsentChange, Consents, Me, PublicUser, Registration, RoleChange
from app.accounts.service import AccountService
from app.auth.dependencies import require_role
from app.auth.ratelimit import RegistrationLimiter
from core.tokens import Principal


class AccountController(Controller):
    tags = ("accounts",)

    @post("/accounts", status_code=201)
    async def register(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[Registration],
        accounts: NamedDependency[AccountService],
        registration_limiter: NamedDependency[RegistrationLimiter],
    ) -> PublicUser:
        """Create an account; the handle is public, everything else stays in the identity store.
        Registrations are limited per client address (429 with ``Retry-After``)."""
        await registration_limiter.attempt(request.client.host if request.client else "unknown")
        return await accounts.register(data)

    @get("/me")
    async def me(
        self, principal: NamedDependency[Principal], accounts: NamedDependency[AccountService]
    ) -> Me:
        """The caller's own record, personal data included."""
        return await accounts.me(principal.id)

    @get("/me/consents")
    async def consents(
        self, principal: NamedDependency[Principal], accounts: NamedDependency[AccountService]
    ) -> Consents:
        """Where each purpose stands (essential, personalization, analytics), with the policy
        version in force and every decision recorded so far."""
        return await accounts.consents(principal.id)

    @put("/me/consents")
    async def set_consents(
        self,
        data: JSONBody[ConsentChange],
        principal: NamedDependency[Principal],
        accounts: NamedDependency[AccountService],
    ) -> Consents:
        """Give or withdraw consent per purpose; each decision is added to the history with the
        policy version in force. Withdrawing personalization applies to the next request.
        400 ``essential_required`` for withdrawing the essential purpose."""
        return await accounts.set_consents(principal.id, {str(p): g for p, g in data.consents.items()})

    @get("/users/{user_id:uuid}/personal-data")
    async def personal_data(
        self,
        user_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal],
        accounts: NamedDependency[AccountService],
    ) -> Me:
        """A user's record, personal data included (admins only); every such read is logged."""
        require_role(principal, "admin")
        return await accounts.personal_data(principal, user_id)

    @put("/users/{user_id:uuid}/role")
    async def set_role(
        self,
        user_id: FromPath[uuid.UUID],
        data: JSONBody[RoleChange],
        principal: NamedDependency[Principal],
        accounts: NamedDependency[AccountService],
    ) -> PublicUser:
        """Grant a role (admins only); it applies from the user's next request, live sockets included."""
        require_role(principal, "admin")
        return await accounts.set_role(principal, user_id, data.role)

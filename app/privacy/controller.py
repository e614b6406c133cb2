"""REST endpoints of the privacy lifecycle: export, erasure, and an admin's export or erasure of a user."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.response import Stream

from app.auth.dependencies import require_role
from app.privacy.schemas import ErasureRequest, ErasureStatus, ExportStatus
from app.privacy.service import PrivacyService
from core.tokens import Principal


class PrivacyController(Controller):
    tags = ("privacy",)

    @post("/me/export", status_code=202)
    async def request_export(
        self, principal: NamedDependency[Principal], privacy: NamedDependency[PrivacyService]
    ) -> ExportStatus:
        """Start building an archive of all your data (one at a time: 409 ``export_running``).
        Progress comes as ``privacy.export`` on ``user:{id}``; then ``GET /me/export`` has the link."""
        return await privacy.request_export(principal)

    @get("/me/export")
    async def export_status(
        self, principal: NamedDependency[Principal], privacy: NamedDependency[PrivacyService]
    ) -> ExportStatus:
        """Your latest export: its state, and once done a signed download link."""
        return await privacy.export_status(principal)

    @get("/privacy/exports/{token:str}")
    async def download(self, token: FromPath[str], privacy: NamedDependency[PrivacyService]) -> Response[Any]:
        """The archive a signed link names (a zip); the link is the credential."""
        info, body = await privacy.archive(token)
        headers = {
            "Content-Length": str(info.size),
            "Content-Disposition": 'attachment; filename="mydrtv-export.zip"',
            "Cache-Control": "private, no-store",
        }
        return Stream(body, media_type="application/zip", headers=headers)

    @post("/users/{user_id:uuid}/export", status_code=202)
    async def export_user(
        self,
        user_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal],
        privacy: NamedDependency[PrivacyService],
    ) -> ExportStatus:
        """Build an archive of a user's data (admins only; written to the access log and the
        audit log). One export at a time per user: 409 ``export_running``."""
        require_role(principal, "admin")
        return await privacy.export_by_admin(principal, user_id)

    @get("/users/{user_id:uuid}/export")
    async def user_export_status(
        self,
        user_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal],
        privacy: NamedDependency[PrivacyService],
    ) -> ExportStatus:
        """The newest export an admin asked for of this user; once done, a signed link."""
        require_role(principal, "admin")
        return await privacy.admin_export_status(user_id)

    @get("/me/erasure")
    async def erasure_status(
        self, principal: NamedDependency[Principal], privacy: NamedDependency[PrivacyService]
    ) -> ErasureStatus:
        """Your account's latest erasure request and when it runs."""
        return await privacy.erasure_status(principal)


# Routes on paths another controller has too (``/me``, ``/users/{id}``): Litestar merges a plain
# handler into an existing path, but refuses a second controller's; register these after the
# controllers (``ROUTES``).


@delete("/me", status_code=202, tags=["privacy"])
async def erase_me(
    data: JSONBody[ErasureRequest],
    principal: NamedDependency[Principal],
    privacy: NamedDependency[PrivacyService],
) -> ErasureStatus:
    """Erase your account after the grace period (``scheduled_for``); your password confirms
    it. Every session is signed out; signing in again before then cancels the erasure."""
    return await privacy.request_erasure(principal, data.password)


@delete("/users/{user_id:uuid}", status_code=202, tags=["privacy"])
async def erase_user(
    user_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    privacy: NamedDependency[PrivacyService],
) -> ErasureStatus:
    """Erase a user's account now (admins only; written to the audit log)."""
    require_role(principal, "admin")
    return await privacy.erase_by_admin(principal, user_id)


ROUTES = [erase_me, erase_user]

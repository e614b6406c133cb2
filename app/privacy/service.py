"""The privacy lifecycle as the API offers it: exports, erasure requests and their grace period,
admin erasures, and the signed links that download an archive.

A download link is a JWT (HS256 with the deployment's secret, audience ``privacy-export``) naming
the job and the user; it expires after ``link_seconds`` or with the archive, whichever is first.
Admin exports and erasures of another user's data are written to the moderation audit log, and handed to
``record_access`` (the personal-data access log) when one is wired.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import jwt

from app.auth.passwords import verify_password
from app.identity.privacy import IdentityPart
from app.moderation import audit
from app.privacy.export import ARCHIVE_PREFIX
from app.privacy.jobs import OpenJob, PrivacyJob, PrivacyJobs
from app.privacy.schemas import ErasureStatus, ExportStatus
from core.db import Database
from core.errors import Conflict, Forbidden, NotFound, ServiceUnavailable
from core.tokens import Principal
from media.storage.base import ObjectInfo, Storage

_AUDIENCE = "privacy-export"
AccessRecorder = Callable[[Principal, uuid.UUID, str], Awaitable[object]]


class PrivacyService:
    def __init__(
        self,
        db: Database,
        jobs: PrivacyJobs,
        identity: IdentityPart,
        storage: Storage | None,
        *,
        secret: str,
        issuer: str,
        link_seconds: int,
        grace_seconds: float,
        record_access: AccessRecorder | None = None,
    ) -> None:
        self._db = db
        self._jobs = jobs
        self._identity = identity
        self._storage = storage
        self._secret = secret
        self._issuer = issuer
        self._link_seconds = link_seconds
        self.grace_seconds = grace_seconds
        self._record_access = record_access

    # Export --------------------------------------------------------------------------------------

    async def request_export(self, user: Principal) -> ExportStatus:
        if self._storage is None:
            raise ServiceUnavailable(
                "exports need object storage, which is not configured", code="export_unavailable"
            )
        try:
            job = await self._jobs.add("export", user.id, requested_by=None)
        except OpenJob as exc:
            raise Conflict("an export of your data is already under way", code="export_running") from exc
        return self._export_status(job)

    async def export_status(self, user: Principal) -> ExportStatus:
        job = await self._jobs.latest("export", user.id, by_admin=False)
        if job is None:
            raise NotFound("you have not asked for an export", code="export_not_found")
        return self._export_status(job)

    async def export_by_admin(self, admin: Principal, user_id: uuid.UUID) -> ExportStatus:
        """An admin has a user's data exported (a request the user made by another channel, a
        legal order); the access is recorded before the job exists, and audited."""
        if self._storage is None:
            raise ServiceUnavailable(
                "exports need object storage, which is not configured", code="export_unavailable"
            )
        await self._subject(admin, user_id, own="admins export their own data with POST /me/export")
        running = await self._jobs.latest("export", user_id)
        if running is not None and running.state in ("queued", "running"):  # refused unrecorded
            raise Conflict("an export of this user's data is already under way", code="export_running")
        if self._record_access is not None:  # written first: no unrecorded export
            await self._record_access(admin, user_id, "export")
        async with self._db.engine.transaction():
            try:
                job = await self._jobs.add("export", user_id, requested_by=admin.id)
            except OpenJob as exc:
                raise Conflict(
                    "an export of this user's data is already under way", code="export_running"
                ) from exc
            await audit.log(self._db, admin, "user.export", target_user_id=user_id)
        return self._export_status(job)

    async def admin_export_status(self, user_id: uuid.UUID) -> ExportStatus:
        """The newest export an admin asked for of this user, with its link once done."""
        job = await self._jobs.latest("export", user_id, by_admin=True)
        if job is None:
            raise NotFound("no admin has asked for an export of this user", code="export_not_found")
        return self._export_status(job)

    async def _subject(self, admin: Principal, user_id: uuid.UUID, *, own: str) -> None:
        """Refuse an admin's action on their own account (``own`` says the route for it) or on
        an account that does not exist."""
        if user_id == admin.id:
            raise Forbidden(own, code="own_account")
        if not await self._db.fetch("SELECT 1 FROM users WHERE id = {}", user_id):
            raise NotFound("no such user", code="user_not_found")

    def _export_status(self, job: PrivacyJob) -> ExportStatus:
        url = link_expires = None
        if job.state == "done" and job.archive_key and job.expires_at:
            expires = min(int(time.time()) + self._link_seconds, int(job.expires_at.timestamp()))
            claims = {
                "sub": str(job.user_id),
                "jti": str(job.id),
                "aud": _AUDIENCE,
                "iss": self._issuer,
                "exp": expires,
            }
            url = f"/privacy/exports/{jwt.encode(claims, self._secret, algorithm='HS256')}"
            link_expires = datetime.fromtimestamp(expires, UTC)
        return ExportStatus(
            job_id=job.id,
            state="queued" if job.state == "cancelled" else job.state,
            progress=job.progress,
            requested_at=job.created_at,
            finished_at=job.finished_at,
            size_bytes=job.archive_bytes,
            download_url=url,
            link_expires_at=link_expires,
            archive_expires_at=job.expires_at if job.archive_key else None,
        )

    async def archive(self, token: str) -> tuple[ObjectInfo, AsyncIterator[bytes]]:
        """The archive a signed link names: its info and its bytes; 403 or 404 otherwise."""
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                audience=_AUDIENCE,
                issuer=self._issuer,
                options={"require": ["exp", "sub", "jti"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Forbidden(
                "this download link has expired; ask for a new one", code="signed_url_expired"
            ) from exc
        except jwt.InvalidTokenError as exc:
            raise Forbidden("this download link is not valid", code="signed_url_invalid") from exc
        job = await self._jobs.get(int(claims["jti"]))
        if job is None or str(job.user_id) != claims["sub"] or not job.archive_key or self._storage is None:
            raise NotFound("this export is no longer available", code="export_not_found")
        if not job.archive_key.startswith(ARCHIVE_PREFIX):
            raise NotFound("this export is no longer available", code="export_not_found")
        info = await self._storage.stat(job.archive_key)
        if info is None:
            raise NotFound("this export is no longer available", code="export_not_found")
        return info, self._storage.read(job.archive_key)

    # Erasure -------------------------------------------------------------------------------------

    async def request_erasure(self, user: Principal, password: str) -> ErasureStatus:
        """Start the grace period after checking the password; every session is signed out."""
        if not await verify_password(await self._identity.password_hash(user.id), password):
            raise Forbidden("the password is not right", code="wrong_password")
        try:
            job = await self._jobs.add("erase", user.id, requested_by=None, delay_seconds=self.grace_seconds)
        except OpenJob as exc:
            raise Conflict("your account is already scheduled for erasure", code="erasure_pending") from exc
        await self._identity.revoke_sessions(user.id)
        return _erasure_status(job)

    async def erasure_status(self, user: Principal) -> ErasureStatus:
        job = await self._jobs.latest("erase", user.id)
        if job is None:
            raise NotFound("your account is not scheduled for erasure", code="erasure_not_found")
        return _erasure_status(job)

    async def cancel_erasure(self, user_id: uuid.UUID) -> bool:
        """A sign-in within the grace period: the erasure is called off."""
        return await self._jobs.cancel_erasure(user_id)

    async def erase_by_admin(self, admin: Principal, user_id: uuid.UUID) -> ErasureStatus:
        """An admin erases an account at once (no grace period); audited."""
        await self._subject(admin, user_id, own="admins erase their own account with DELETE /me")
        if self._record_access is not None:  # written first: no unrecorded erasure
            await self._record_access(admin, user_id, "erase")
        async with self._db.engine.transaction():
            await self._jobs.cancel_erasure(user_id)  # a pending one of the user's own gives way
            try:
                job = await self._jobs.add("erase", user_id, requested_by=admin.id)
            except OpenJob as exc:
                raise Conflict("this account is being erased already", code="erasure_running") from exc
            await audit.log(self._db, admin, "user.erase", target_user_id=user_id)
        return _erasure_status(job)


def _erasure_status(job: PrivacyJob) -> ErasureStatus:
    state = job.state if job.state != "expired" else "done"
    return ErasureStatus(job_id=job.id, state=state, scheduled_for=job.run_after, requested_at=job.created_at)

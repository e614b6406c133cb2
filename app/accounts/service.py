"""Registration, authentication and roles.

A user is two rows in two databases: ``accounts`` (identity: personal data) and ``users`` (main:
public handle and role), sharing one opaque id. No transaction spans both, so registration writes
the identity row first, then the public row while it holds the identity row locked, and removes
the identity row again if the handle is taken. A registration cut short between the two (the
process died, the main database failed) leaves an identity row with no public user: a retry with
the same email reclaims it (``IdentityStore.reclaim``; the lock tells a registration still under
way from one cut short), and the retention job sweeps those nobody retries
(``app/accounts/interrupted.py``).
"""

from __future__ import annotations

import re
import uuid
from datetime import date
from functools import partial

import asyncpg
import msgspec
from email_validator import EmailNotValidError, validate_email

from app.accounts.schemas import Consent, Consents, Me, PublicUser, PurposeState, Registration
from app.accounts.tables import ROLES, User
from app.auth.passwords import check_strength, hash_password, verify_password
from app.auth.principals import Principals
from app.identity.audit import record_personal_data_access
from app.identity.store import DEFAULTS, PURPOSES, ConsentRecord, IdentityStore
from app.moderation import audit
from core.db import Database
from core.errors import BadRequest, Conflict, NotFound
from core.tokens import RANKS, Principal
from graph.events import VideoChanged, enqueue_change

HANDLE = re.compile(r"^[a-z0-9_]{3,30}$")


def normalise_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise BadRequest(f"the email address is not valid: {exc}", code="invalid_email") from exc


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


class AccountService:
    def __init__(
        self,
        identity: IdentityStore,
        minimum_age: int,
        *,
        policy_version: str = "1",
        main: Database | None = None,
        principals: Principals | None = None,
    ) -> None:
        """``main`` and ``principals`` serve role and consent changes (the API); registering needs
        neither. ``policy_version`` is recorded with every consent decision."""
        self._identity = identity
        self._minimum_age = minimum_age
        self._policy_version = policy_version
        self._main = main
        self._principals = principals

    async def register(self, form: Registration, role: str = "viewer") -> PublicUser:
        email = normalise_email(form.email)
        handle = form.handle.strip().lower()
        if not HANDLE.match(handle):
            raise BadRequest(
                "the handle must be 3 to 30 letters, digits or underscores", code="invalid_handle"
            )
        self._check_birth_date(form.birth_date)
        if form.consents.get("essential") is False:
            raise BadRequest(
                "the essential purpose is the service itself and cannot be refused", code="essential_required"
            )
        check_strength(form.password, related=[email, email.split("@")[0], handle])
        user_id = uuid.uuid4()
        create = partial(
            self._identity.create,
            account_id=user_id,
            email=email,
            password_hash=await hash_password(form.password),
            birth_date=form.birth_date,
            consents={str(p): g for p, g in form.consents.items()},
            policy_version=self._policy_version,
        )
        try:
            await create()
        except Conflict as exc:
            # A registration of this email cut short before its public row: take the email back.
            if exc.code != "email_taken" or not await self._identity.reclaim(email, self._unregistered):
                raise
            await create()
        personalization = form.consents.get("personalization", DEFAULTS["personalization"])
        clash = None
        async with self._identity.holding(user_id) as present:
            if not present:  # reclaimed by a retry of the same email, which registers instead
                raise Conflict("an account with this email already exists", code="email_taken")
            try:
                await User.insert(User(id=user_id, handle=handle, role=role, personalization=personalization))
            except asyncpg.UniqueViolationError as exc:
                clash = exc
                await self._identity.delete(user_id)  # committed as the lock is let go
        if clash is not None:
            raise Conflict("this handle is taken", code="handle_taken") from clash
        return await self.public(user_id)

    async def _unregistered(self, user_id: uuid.UUID) -> bool:
        """No public user has this id: its identity row is a registration cut short."""
        return await User.select(User.id).where(User.id == user_id).first() is None

    def _check_birth_date(self, born: date | None) -> None:
        if born is None:
            return
        today = date.today()
        if born > today:
            raise BadRequest("the birth date is in the future", code="invalid_birth_date")
        if _age(born, today) < self._minimum_age:
            raise BadRequest(f"users must be at least {self._minimum_age} years old", code="too_young")

    async def authenticate(self, email: str, password: str) -> Principal | None:
        """The principal for these credentials, or None; the same work is done either way."""
        try:
            normalised = normalise_email(email)
        except BadRequest:
            normalised = None
        account = await self._identity.by_email(normalised) if normalised else None
        ok = await verify_password(account.password_hash if account else None, password)
        if not ok or account is None:
            return None
        try:
            return await self.principal(account.id)
        except NotFound:  # a registration cut short between its two writes
            return None

    async def principal(self, user_id: uuid.UUID) -> Principal:
        user = await self.public(user_id)
        return Principal(id=user.id, handle=user.handle, role=user.role)

    async def public(self, user_id: uuid.UUID) -> PublicUser:
        row = await User.select().where(User.id == user_id).first()
        if row is None:
            raise NotFound("no such user", code="user_not_found")
        return msgspec.convert(row, PublicUser)

    async def by_handle(self, handle: str) -> PublicUser:
        row = await User.select().where(User.handle == handle.lower()).first()
        if row is None:
            raise NotFound("no such user", code="user_not_found")
        return msgspec.convert(row, PublicUser)

    async def me(self, user_id: uuid.UUID) -> Me:
        user = await self.public(user_id)
        account = await self._identity.get(user_id)
        if account is None:
            raise NotFound("no such user", code="user_not_found")
        consents = await self._identity.consents(user_id)
        return Me(
            id=user.id,
            handle=user.handle,
            role=user.role,
            email=account.email,
            birth_date=account.birth_date,
            consents=[_consent(c) for c in consents if c.purpose in PURPOSES],
            created_at=user.created_at,
        )

    async def personal_data(self, admin: Principal, user_id: uuid.UUID) -> Me:
        """Another user's record, personal data included, for an admin; the access is logged
        first (``app/identity/audit.py``), so an access that cannot be logged does not happen."""
        await self.public(user_id)  # 404 before anything is logged about a user who does not exist
        await record_personal_data_access(admin.id, user_id, "read")
        return await self.me(user_id)

    # Consent ------------------------------------------------------------------------------------

    async def consents(self, user_id: uuid.UUID) -> Consents:
        latest = {c.purpose: c for c in await self._identity.consents(user_id)}
        purposes = []
        for purpose in PURPOSES:
            decision = latest.get(purpose)
            purposes.append(
                PurposeState(
                    purpose=purpose,  # type: ignore[arg-type]  # one of PURPOSES, the Literal's values
                    granted=decision.granted if decision else DEFAULTS[purpose],
                    decided=decision is not None,
                    policy_version=decision.policy_version if decision else None,
                    recorded_at=decision.recorded_at if decision else None,
                )
            )
        history = await self._identity.consent_history(user_id)
        return Consents(
            policy_version=self._policy_version,
            purposes=purposes,
            history=[_consent(c) for c in history if c.purpose in PURPOSES],
        )

    async def set_consents(self, user_id: uuid.UUID, decisions: dict[str, bool]) -> Consents:
        """Record the decisions (history kept), then mirror personalization onto the main
        database's ``users.personalization``, which the social features read. No transaction spans
        the two: if the second write fails the answer is an error and repeating the request, which
        changes nothing twice, puts the two in step."""
        if decisions.get("essential") is False:
            raise BadRequest(
                "the essential purpose is the service itself and cannot be withdrawn; erase the"
                " account instead",
                code="essential_required",
            )
        await self.public(user_id)
        if not await self._identity.exists(user_id):  # a registration cut short, or shredded
            raise NotFound("no such user", code="user_not_found")
        if decisions:
            await self._identity.record_consents(user_id, decisions, self._policy_version)
        if "personalization" in decisions:
            await self._mirror_personalization(user_id, decisions["personalization"])
        return await self.consents(user_id)

    async def _mirror_personalization(self, user_id: uuid.UUID, granted: bool) -> None:
        """Set ``users.personalization``; when it changes, the videos the user rated 4+ or watched
        are projected again, since their popularity counts only consenting users' activity."""
        assert self._main is not None, "consent changes need the main database"
        async with self._main.engine.transaction():
            changed = await self._main.fetch(
                "UPDATE users SET personalization = {} WHERE id = {} AND personalization <> {} RETURNING 1",
                granted,
                user_id,
                granted,
            )
            if not changed:
                return
            videos = await self._main.fetch(
                "SELECT video_id FROM ratings WHERE user_id = {} AND stars >= 4"
                " UNION SELECT video_id FROM watches WHERE user_id = {}",
                user_id,
                user_id,
            )
            for row in videos:
                await enqueue_change(self._main, VideoChanged(str(row["video_id"])))

    async def set_role(self, actor: Principal, user_id: uuid.UUID, role: str) -> PublicUser:
        """Grant or revoke a role, in the moderation audit log; it applies to the user's next
        request (``Principals`` forgets the old one here, and on every other process through
        the database's notification)."""
        if role not in ROLES:
            raise BadRequest(f"role must be one of {', '.join(ROLES)}", code="invalid_role")
        if user_id == actor.id:
            raise BadRequest("admins cannot change their own role", code="own_role")
        assert self._main is not None, "role changes need the main database"
        async with self._main.engine.transaction():
            rows = await self._main.fetch("SELECT role FROM users WHERE id = {} FOR UPDATE", user_id)
            if not rows:
                raise NotFound("no such user", code="user_not_found")
            old = rows[0]["role"]
            if old != role:
                await self._main.fetch("UPDATE users SET role = {} WHERE id = {}", role, user_id)
                await audit.log(
                    self._main,
                    actor,
                    "role.grant" if RANKS[role] > RANKS.get(old, -1) else "role.revoke",
                    target_user_id=user_id,
                    details={"old_role": old, "new_role": role},
                )
        if self._principals is not None:
            self._principals.forget(user_id)
        return await self.public(user_id)


def _consent(record: ConsentRecord) -> Consent:
    return Consent(**msgspec.structs.asdict(record))

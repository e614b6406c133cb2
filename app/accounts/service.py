"""Registration, authentication and roles.

A user is two rows in two databases: ``accounts`` (identity: personal data) and ``users`` (main:
public handle and role), sharing one opaque id. No transaction spans both, so registration writes
the identity row first and removes it again if the public row cannot be written.
"""

from __future__ import annotations

import re
import uuid
from datetime import date

import asyncpg
import msgspec
from email_validator import EmailNotValidError, validate_email

from app.accounts.schemas import Consent, Me, PublicUser, Registration
from app.accounts.tables import ROLES, User
from app.auth.passwords import check_strength, hash_password, verify_password
from app.auth.principals import Principals
from app.identity.store import IdentityStore
from app.moderation import audit
from core.db import Database
from core.errors import BadRequest, Conflict, NotFound
from core.tokens import RANKS, Principal

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
        main: Database | None = None,
        principals: Principals | None = None,
    ) -> None:
        """``main`` and ``principals`` serve role changes (the API); registering needs neither."""
        self._identity = identity
        self._minimum_age = minimum_age
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
        check_strength(form.password, related=[email, email.split("@")[0], handle])
        user_id = uuid.uuid4()
        await self._identity.create(
            account_id=user_id,
            email=email,
            password_hash=await hash_password(form.password),
            birth_date=form.birth_date,
            consents=form.consents,
        )
        try:
            await User.insert(User(id=user_id, handle=handle, role=role))
        except asyncpg.UniqueViolationError as exc:
            await self._identity.delete(user_id)
            raise Conflict("this handle is taken", code="handle_taken") from exc
        return await self.public(user_id)

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
            consents=[Consent(**msgspec.structs.asdict(c)) for c in consents],
            created_at=user.created_at,
        )

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

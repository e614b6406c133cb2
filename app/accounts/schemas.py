"""Wire types of the accounts endpoints."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

Role = Literal["viewer", "moderator", "admin"]


class Registration(msgspec.Struct, forbid_unknown_fields=True):
    email: str
    password: str
    handle: str
    birth_date: date | None = None
    # Purpose -> granted, e.g. {"recommendations": true, "analytics": false}.
    consents: dict[Annotated[str, msgspec.Meta(max_length=64)], bool] = msgspec.field(default_factory=dict)


class PublicUser(msgspec.Struct):
    id: uuid.UUID
    handle: str
    role: Role
    created_at: datetime


class Consent(msgspec.Struct):
    purpose: str
    granted: bool
    recorded_at: datetime


class Me(msgspec.Struct):
    id: uuid.UUID
    handle: str
    role: Role
    email: str
    birth_date: date | None
    consents: list[Consent]
    created_at: datetime


class RoleChange(msgspec.Struct, forbid_unknown_fields=True):
    role: Role


class TokenResponse(msgspec.Struct):
    access_token: str
    token_type: str
    expires_in: int
    refresh_token: str

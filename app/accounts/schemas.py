"""Wire types of the accounts endpoints."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

import msgspec

Role = Literal["viewer", "moderator", "admin"]
# The purposes of processing a user decides on (app/identity/store.py PURPOSES; docs/privacy.md).
Purpose = Literal["essential", "personalization", "analytics"]


class Registration(msgspec.Struct, forbid_unknown_fields=True):
    email: str
    password: str
    handle: str
    birth_date: date | None = None
    # Purpose -> granted, e.g. {"personalization": false, "analytics": true}; a purpose left out
    # keeps its default (docs/privacy.md).
    consents: dict[Purpose, bool] = msgspec.field(default_factory=dict)


class PublicUser(msgspec.Struct):
    id: uuid.UUID
    handle: str
    role: Role
    created_at: datetime


class Consent(msgspec.Struct):
    purpose: str
    granted: bool
    recorded_at: datetime
    policy_version: str | None = None  # the privacy policy in force when decided (null: before versions)


class PurposeState(msgspec.Struct):
    """Where one purpose stands: the latest decision, or its default when none was recorded."""

    purpose: Purpose
    granted: bool
    decided: bool  # false: never decided, ``granted`` is the default
    policy_version: str | None
    recorded_at: datetime | None


class Consents(msgspec.Struct):
    policy_version: str  # the privacy policy in force now
    purposes: list[PurposeState]
    history: list[Consent]  # every decision ever recorded, oldest first (append-only)


class ConsentChange(msgspec.Struct, forbid_unknown_fields=True):
    consents: dict[Purpose, bool]  # the purposes to decide on; others keep their state


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

"""The log of admins' access to someone else's personal data (GDPR accountability, Art. 5(2)).

Each read of another user's personal data by an admin (``GET /users/{id}/personal-data``), and
each export or erasure an admin starts for someone, adds a row: who, whose, what, when. The rows
hold only opaque ids, and no foreign key: the record outlives the subject's account.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from app.identity.tables import PersonalDataAccess

ACTIONS = ("read", "export", "erase")


class AccessRecord(msgspec.Struct, frozen=True):
    admin_id: uuid.UUID
    subject_id: uuid.UUID
    action: str
    at: datetime


async def record_personal_data_access(admin_id: uuid.UUID, subject_id: uuid.UUID, action: str) -> None:
    """Write one entry; call it before the data is handed out (a failed write refuses the access)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown personal-data access {action!r}; one of {', '.join(ACTIONS)}")
    await PersonalDataAccess.raw(
        "INSERT INTO personal_data_access (admin_id, subject_id, action) VALUES ({}, {}, {})",
        admin_id,
        subject_id,
        action,
    )


async def accesses_to(subject_id: uuid.UUID) -> list[AccessRecord]:
    """Every recorded access to one subject's data, oldest first (for their export)."""
    rows = await PersonalDataAccess.raw(
        "SELECT admin_id, subject_id, action, at FROM personal_data_access WHERE subject_id = {} ORDER BY id",
        subject_id,
    )
    return msgspec.convert(rows, list[AccessRecord])

"""Wire types of the privacy endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec


class ExportStatus(msgspec.Struct):
    job_id: int
    state: Literal["queued", "running", "done", "failed", "expired"]
    progress: float  # 0..1
    requested_at: datetime
    finished_at: datetime | None
    size_bytes: int | None  # the archive's, once done
    download_url: str | None  # a signed link, valid until ``link_expires_at``; null until done
    link_expires_at: datetime | None
    archive_expires_at: datetime | None  # the archive is deleted then


class ErasureRequest(msgspec.Struct, forbid_unknown_fields=True):
    password: str = msgspec.field()


class ErasureStatus(msgspec.Struct):
    job_id: int
    state: Literal["queued", "running", "done", "failed", "cancelled"]
    scheduled_for: datetime  # the end of the grace period: signing in before then cancels it
    requested_at: datetime


class AuditReport(msgspec.Struct):
    user_id: str
    residue: dict[str, list[str]]  # store -> findings; every store listed, empty when clean

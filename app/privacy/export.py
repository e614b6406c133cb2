"""Building one user's export archive: a zip with one JSON file per kind of record (from every
part of the registry), the original uploads under ``uploads/``, and ``manifest.json`` that lists
them. The archive is stored under ``privacy/exports/{job}/`` with an unguessable name, and
deleted when its retention runs out (``Exporter.sweep``).

An export cut short starts again from nothing at its next claim (what a killed attempt stored is
deleted first): only the finished archive counts.
"""

from __future__ import annotations

import asyncio
import secrets
import tempfile
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec

from app.privacy.events import send_export_progress
from app.privacy.jobs import PrivacyJob, PrivacyJobs
from app.privacy.parts import Registry, StoredFile
from core.db import Database
from media.storage.base import Storage
from realtime.bus.base import Bus

ARCHIVE_PREFIX = "privacy/exports/"


def _json(value: Any) -> bytes:
    return msgspec.json.format(msgspec.json.encode(value), indent=2)


class Exporter:
    def __init__(
        self,
        db: Database,
        registry: Registry,
        jobs: PrivacyJobs,
        storage: Storage,
        bus: Bus,
        *,
        retention_seconds: float,
        work_dir: str | None = None,
    ) -> None:
        self._db = db
        self._registry = registry
        self._jobs = jobs
        self._storage = storage
        self._bus = bus
        self._retention = timedelta(seconds=retention_seconds)
        self._work_dir = work_dir or None

    async def run(self, job: PrivacyJob) -> None:
        prefix = f"{ARCHIVE_PREFIX}{job.id}/"
        await self._storage.delete_prefix(prefix)  # an earlier attempt's, if it died after storing
        await self._report(job, "running", 0.0)
        with tempfile.TemporaryDirectory(prefix="mydrtv-export-", dir=self._work_dir) as tmp:
            path = Path(tmp) / "export.zip"
            archive = await asyncio.to_thread(zipfile.ZipFile, path, "w", zipfile.ZIP_DEFLATED)
            try:
                manifest = await self._fill(job, archive, Path(tmp))
                await asyncio.to_thread(archive.writestr, "manifest.json", _json(manifest))
            finally:
                await asyncio.to_thread(archive.close)
            key = f"{prefix}{secrets.token_urlsafe(24)}.zip"
            info = await self._storage.put_file(key, path, "application/zip")
        expires = datetime.now(UTC) + self._retention
        async with self._db.engine.transaction():
            done = await self._jobs.finish(job, archive_key=key, archive_bytes=info.size, expires_at=expires)
        if not done:
            await self._storage.delete_prefix(prefix)
            return
        await self._report(job, "ready", 1.0)

    async def _fill(self, job: PrivacyJob, archive: zipfile.ZipFile, tmp: Path) -> dict[str, Any]:
        parts = self._registry.parts
        kinds: dict[str, int] = {}
        files: list[StoredFile] = []
        for done, part in enumerate(parts, start=1):
            exported = await part.export(job.user_id)
            for kind, records in exported.records.items():
                await asyncio.to_thread(archive.writestr, f"{kind}.json", _json(records))
                kinds[kind] = len(records)
            files += exported.files
            await self._report(job, "running", 0.5 * done / len(parts))
        for done, file in enumerate(files, start=1):
            local = tmp / f"file-{done}"
            await self._storage.download(file.key, local)
            await asyncio.to_thread(archive.write, local, file.archive_name)
            await asyncio.to_thread(local.unlink)
            await self._report(job, "running", 0.5 + 0.5 * done / len(files))
        return {
            "user_id": str(job.user_id),
            "exported_at": datetime.now(UTC).isoformat(),
            "records": {f"{kind}.json": count for kind, count in sorted(kinds.items())},
            "files": [file.archive_name for file in files],
        }

    async def _report(self, job: PrivacyJob, state: Any, fraction: float) -> None:
        if state == "running":
            await self._jobs.progress(job, fraction)
        await send_export_progress(self._bus, job.user_id, job.id, state, fraction)

    async def sweep(self) -> int:
        """Delete the archives whose retention ran out; how many."""
        expired = await self._jobs.expired_archives()
        for job_id, _ in expired:
            await self._storage.delete_prefix(f"{ARCHIVE_PREFIX}{job_id}/")
            await self._jobs.archive_deleted(job_id)
        return len(expired)

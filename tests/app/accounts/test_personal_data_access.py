"""Admins reading someone's personal data: allowed, and each read is in the access log."""

from __future__ import annotations

import uuid
from typing import Any

from litestar.testing import AsyncTestClient

from core.settings import Settings
from tests.users import access_log, person, register


async def test_an_admins_read_of_personal_data_is_logged(
    client: AsyncTestClient[Any], settings: Settings
) -> None:
    subject = await register(client, birth_date="1990-01-01")
    subject_id = uuid.UUID(subject["id"])
    admin, viewer = await person(settings, "admin"), await person(settings, "moderator")

    refused = await client.get(f"/users/{subject_id}/personal-data", headers=viewer.headers)
    assert refused.status_code == 403 and refused.json()["error"] == "forbidden_role"
    missing = await client.get(f"/users/{uuid.uuid4()}/personal-data", headers=admin.headers)
    assert missing.status_code == 404
    assert await access_log(settings, subject_id) == []

    read = await client.get(f"/users/{subject_id}/personal-data", headers=admin.headers)
    assert read.status_code == 200, read.text
    assert read.json()["email"] == subject["email"] and read.json()["birth_date"] == "1990-01-01"
    assert await access_log(settings, subject_id) == [(admin.id, "read")]

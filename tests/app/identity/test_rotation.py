"""``mydrtv privacy rotate-master-key``: every data key moves to the new master key, sign-in works
before, during and after, and a rotation that misses the old key says so."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import msgspec
from litestar.testing import AsyncTestClient

from app.identity.crypto import new_master_key
from core.settings import Settings
from server.factory import create_app
from support.processes import ROOT, settings_env
from tests.users import login, register


def rotate(settings: Settings) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", "privacy", "rotate-master-key"],
        env=settings_env(settings),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def signs_in(settings: Settings, *users: dict[str, Any]) -> None:
    async with AsyncTestClient(app=create_app(settings)) as api:
        for user in users:
            assert (await login(api, user["email"]))["access_token"]


async def test_rotation_rewraps_every_key_and_keeps_sign_in_working(settings: Settings) -> None:
    async with AsyncTestClient(app=create_app(settings)) as api:
        users = [await register(api, birth_date="2000-01-01") for _ in range(3)]
    old, new = settings.privacy_master_key, new_master_key()
    rotated = msgspec.structs.replace(settings, privacy_master_key=new)
    during = msgspec.structs.replace(rotated, privacy_old_master_keys=old)

    missing_old = rotate(rotated)
    assert missing_old.returncode == 2, missing_old.stderr
    assert "MYDRTV_PRIVACY_OLD_MASTER_KEYS" in missing_old.stderr

    await signs_in(during, *users)  # API processes already on the new key, old one still accepted
    async with AsyncTestClient(app=create_app(during)) as api:
        users.append(await register(api))  # wrapped by the new key from the start

    done = rotate(during)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["rewrapped"] == 3 and report["left"] == 0

    again = rotate(during)
    assert json.loads(again.stdout)["rewrapped"] == 0  # done is done; a cut-short run just resumes

    await signs_in(rotated, *users)  # the old key can go
    async with AsyncTestClient(app=create_app(rotated)) as api:
        me = await api.get(
            "/me",
            headers={"Authorization": f"Bearer {(await login(api, users[0]['email']))['access_token']}"},
        )
        assert me.json()["birth_date"] == "2000-01-01"

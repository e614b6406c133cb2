"""The privacy lifecycle against real stores: an export carries everything of the user and nothing
of anyone else; an erasure leaves no residue in any store; a sign-in in the grace period cancels
the erasure and leaves everything as it was."""

from __future__ import annotations

import asyncio
import io
import sys
import uuid
import zipfile
from typing import Any

import asyncpg
import msgspec
import pytest
from litestar.testing import AsyncTestClient

from core.db import Database
from core.settings import Settings
from graph.rebuild import differences
from media.storage import open_storage
from media.storage.base import Storage
from server.factory import create_app
from server.privacy import Standalone
from support.processes import settings_env
from tests.app.privacy.conftest import relayed, run_jobs
from tests.app.privacy.seeding import PASSWORD, Seeded, seed, signed_up
from tests.app.video_helpers import watching
from tests.users import Person, access_log, login, person

Client = AsyncTestClient[Any]


@pytest.fixture(scope="module")
async def storage(privacy_settings: Settings) -> Any:
    store = open_storage(privacy_settings.storage_url)
    yield store
    await store.close()


@pytest.fixture(scope="module")
async def others(privacy_settings: Settings) -> list[Person]:
    return [await person(privacy_settings, handle=f"other_{uuid.uuid4().hex[:8]}") for _ in range(3)]


async def _seed(
    api: Client, settings: Settings, db: Database, storage: Storage, others: list[Person]
) -> Seeded:
    seeded = await seed(api, settings, db, storage, others, prefix=f"p{uuid.uuid4().hex[:6]}")
    await relayed(db)
    return seeded


async def _export(api: Client, stack: Standalone, db: Database, who: Person) -> zipfile.ZipFile:
    started = await api.post("/me/export", headers=who.headers)
    assert started.status_code == 202, started.text
    again = await api.post("/me/export", headers=who.headers)
    assert again.status_code == 409 and again.json()["error"] == "export_running"
    await run_jobs(stack, db, started.json()["job_id"])
    status = (await api.get("/me/export", headers=who.headers)).json()
    assert status["state"] == "done" and status["download_url"], status
    download = await api.get(status["download_url"])
    assert download.status_code == 200 and download.headers["content-type"] == "application/zip"
    assert int(download.headers["content-length"]) == status["size_bytes"]
    return zipfile.ZipFile(io.BytesIO(download.content))


async def _privacy_command(settings: Settings, *args: str) -> tuple[int, str, str]:
    """``mydrtv privacy ...`` as a command: its exit status, what it printed and its log."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server.cli",
        "privacy",
        *args,
        env=settings_env(settings),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def _audit(settings: Settings, user_id: uuid.UUID) -> tuple[int, str]:
    """``mydrtv privacy audit USER_ID``: its exit status and what it printed."""
    code, out, err = await _privacy_command(settings, "audit", str(user_id))
    return code, out + err


async def _read(storage: Storage, key: str) -> bytes:
    return b"".join([chunk async for chunk in storage.read(key)])


async def _identity_rows(settings: Settings, user_id: uuid.UUID) -> dict[str, list[dict[str, Any]]]:
    connection = await asyncpg.connect(settings.identity_database_url)
    try:
        return {
            table: [
                dict(row)
                for row in await connection.fetch(f"SELECT * FROM {table} WHERE {key} = $1", user_id)
            ]
            for table, key in (("accounts", "id"), ("account_keys", "account"), ("profiles", "account"))
        }
    finally:
        await connection.close()


async def _restored(settings: Settings, table: str, row: dict[str, Any]) -> bytes:
    """Put a dumped row of the identity database back; every byte it holds."""
    connection = await asyncpg.connect(settings.identity_database_url)
    try:
        names = list(row)
        places = ", ".join(f"${n + 1}" for n in range(len(names)))
        await connection.execute(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({places})", *row.values())
    finally:
        await connection.close()
    return b"".join(bytes(v) if isinstance(v, bytes) else str(v).encode() for v in row.values())


async def _people_named(api: Client, name: str) -> set[str]:
    found = await api.get("/search/people", params={"q": name})
    assert found.status_code == 200, found.text
    return {item["user"]["id"] for item in found.json()["items"]}


def counts_of(job: dict[str, Any]) -> dict[str, dict[str, int]]:
    counts = job["counts"]
    return dict(msgspec.json.decode(counts) if isinstance(counts, str | bytes) else counts)


def _records(archive: zipfile.ZipFile, kind: str) -> list[dict[str, Any]]:
    return list(msgspec.json.decode(archive.read(f"{kind}.json")))


async def test_an_export_holds_everything_of_the_user_and_nothing_of_anyone_else(
    api: Client,
    stack: Standalone,
    privacy_settings: Settings,
    main_db: Database,
    storage: Storage,
    others: list[Person],
) -> None:
    mine = await _seed(api, privacy_settings, main_db, storage, others)
    theirs = await _seed(api, privacy_settings, main_db, storage, others)
    async with watching(privacy_settings) as bus:
        await bus.subscribe(f"user:{mine.person.id}")
        archive = await _export(api, stack, main_db, mine.person)
        events = []
        async for item in bus.publications():
            data = msgspec.json.decode(getattr(item, "data", b"{}"))
            if data.get("data", {}).get("type") == "privacy.export":
                events.append(data["data"])
                if data["data"]["state"] == "ready":
                    break
    assert events[-1]["fraction"] == 1.0 and all(e["state"] in ("running", "ready") for e in events)

    assert [(a["email"], a["birth_date"]) for a in _records(archive, "account")] == [
        (mine.email, "1990-05-17")
    ]
    assert {c["purpose"] for c in _records(archive, "consents")} == {"personalization", "analytics"}
    assert len(_records(archive, "sessions")) == 1
    assert _records(archive, "profile")[0]["handle"] == mine.person.handle
    assert sorted(c["body"] for c in _records(archive, "comments")) == sorted(mine.comments)
    assert {r["video_id"]: r["stars"] for r in _records(archive, "ratings")} == mine.rated
    assert {f["user_id"] for f in _records(archive, "following")} == {str(u) for u in mine.followed}
    assert [b["user_id"] for b in _records(archive, "blocks")] == [str(mine.blocked)]
    assert [m["user_id"] for m in _records(archive, "mutes")] == [str(mine.muted)]
    assert len(_records(archive, "watches")) == 1
    assert [p["id"] for p in _records(archive, "parties_started")] == [mine.party]
    assert [m["text"] for m in _records(archive, "party_messages")] == [mine.chat]
    assert {v["id"] for v in _records(archive, "videos")} == set(mine.videos)
    assert {a["verb"] for a in _records(archive, "activities")} >= {"commented", "rated", "followed"}
    edges = _records(archive, "graph_edges")
    assert {("FOLLOWS", e["other"]) for e in edges if e["outgoing"]} >= {
        ("FOLLOWS", str(u)) for u in mine.followed
    }
    assert _records(archive, "graph_node")[0]["id"] == str(mine.person.id)
    assert [e for e in _records(archive, "live_state") if f"client-{mine.person.id}" == e["field"]]
    uploads = {name: archive.read(name) for name in archive.namelist() if name.startswith("uploads/")}
    assert sorted(uploads.values()) == sorted(mine.sources.values())
    details = _records(archive, "profile_details")
    assert [(d["display_name"], d["bio"]) for d in details] == [(mine.display_name, mine.bio)]
    assert [image["url"] for image in details[0]["avatar"]] == mine.avatar
    avatars = {name: archive.read(name) for name in archive.namelist() if name.startswith("avatars/")}
    assert sorted(avatars) == sorted("avatars/" + url.split("/", 3)[3] for url in mine.avatar)
    for name, body in avatars.items():
        assert body == await _read(storage, f"avatars/{mine.person.id}/{name.removeprefix('avatars/')}")
    # Notifications to them (a follow or friend, a reply), with the names of who did it; settings.
    assert mine.notifications >= {"reply"} and mine.notifications & {"follow", "friend"}, mine.notifications
    notes = _records(archive, "notifications")
    assert {n["kind"] for n in notes} == mine.notifications
    assert all(a["handle"] == others[0].handle for n in notes for a in n["actors"])
    assert _records(archive, "notification_settings")[0]["mention"] is False
    manifest = msgspec.json.decode(archive.read("manifest.json"))
    assert manifest["user_id"] == str(mine.person.id)
    assert len(manifest["files"]) == len(mine.sources) + len(mine.avatar)

    everything = b"".join(archive.read(name) for name in archive.namelist())
    theirs_text = [theirs.display_name, theirs.bio, *theirs.avatar, theirs.email, *theirs.comments]
    for text in [*theirs_text, theirs.chat, *theirs.videos, str(theirs.person.id)]:
        assert text.encode() not in everything, text
    for body in theirs.sources.values():
        assert body not in everything


async def test_erasure_leaves_no_residue_in_any_store(
    api: Client,
    stack: Standalone,
    privacy_settings: Settings,
    main_db: Database,
    storage: Storage,
    others: list[Person],
) -> None:
    gone = await _seed(api, privacy_settings, main_db, storage, others)
    kept = await _seed(api, privacy_settings, main_db, storage, others)
    registry = stack.registry
    before = await registry.residue(gone.person.id)
    assert all(before[store] for store in ("identity", "main", "graph", "storage", "redis")), before
    findings = [finding.split(":")[0] for store in before.values() for finding in store]
    assert {"profiles", "avatars", "notifications", "identity"} <= set(findings), before
    assert gone.notified >= 1  # others were told of their follows
    assert (await api.get(gone.avatar[0])).status_code == 200
    assert str(gone.person.id) in await _people_named(api, gone.display_name)
    elsewhere = next(v for v in gone.rated if v not in gone.videos)
    wrong = await api.request(
        "DELETE", "/me", json={"password": "not it at all"}, headers=gone.person.headers
    )
    assert wrong.status_code == 403 and wrong.json()["error"] == "wrong_password"

    backup = await _identity_rows(privacy_settings, gone.person.id)  # a dump, as a backup holds it
    assert backup["account_keys"] and backup["accounts"][0]["email_hash"] is not None
    assert backup["profiles"][0]["display_name"] == gone.display_name
    asked = await api.request("DELETE", "/me", json={"password": PASSWORD}, headers=gone.person.headers)
    assert asked.status_code == 202, asked.text
    again = await api.request("DELETE", "/me", json={"password": PASSWORD}, headers=gone.person.headers)
    assert again.status_code == 409
    job = await run_jobs(stack, main_db, asked.json()["job_id"])
    assert job["state"] == "done", job
    await relayed(main_db)

    assert await registry.residue(gone.person.id) == {s: [] for s in registry.stores}
    assert stack.graph is not None  # the graph agrees with PostgreSQL: follower counts included
    assert await differences(main_db, stack.graph) == {}
    refused = await api.get("/me", headers=gone.person.headers)
    assert refused.status_code == 401 and refused.json()["error"] == "account_gone"
    assert (
        await api.post(
            "/auth/token", data={"grant_type": "password", "username": gone.email, "password": PASSWORD}
        )
    ).status_code == 401
    # Aggregates are exact: the friend's and the kept user's ratings remain, the erased one's not.
    summary = (await api.get(f"/videos/{elsewhere}/rating")).json()
    stars = await main_db.fetch("SELECT stars FROM ratings WHERE video_id = {}", uuid.UUID(elsewhere))
    assert summary["count"] == len(stars) and summary["count"] >= 1
    assert summary["histogram"] == [sum(1 for r in stars if r["stars"] == s) for s in range(1, 6)]
    # The friend's reply still reads, under a "[deleted]" comment by "[deleted]".
    root = (await api.get(f"/comments/{gone.answered_comment}")).json()
    assert root["body"] == "[deleted]" and root["author"]["handle"] == "[deleted]"
    replies = (await api.get(f"/comments/{gone.answered_comment}/replies")).json()["items"]
    assert [r["body"] for r in replies] == [f"a reply by {others[0].handle}"]
    # The dump's account and profile rows restored: the key is gone with no copy, so nothing
    # sealed in them opens: not the email, the birth date or the bio.
    nothing = {"accounts": [], "account_keys": [], "profiles": []}
    assert await _identity_rows(privacy_settings, gone.person.id) == nothing
    restored = await _restored(privacy_settings, "accounts", backup["accounts"][0])
    restored += await _restored(privacy_settings, "profiles", backup["profiles"][0])
    assert gone.email.encode() not in restored and b"1990-05-17" not in restored
    assert gone.bio.encode() not in restored
    identity = next(part for part in registry.parts if part.name == "identity")
    opened = (await identity.export(gone.person.id)).records["account"]
    assert [(a["email"], a["birth_date"]) for a in opened] == [(None, None)]
    profile = next(part for part in registry.parts if part.name == "profiles")
    details = (await profile.export(gone.person.id)).records["profile_details"]
    assert [(d["display_name"], d["bio"]) for d in details] == [(gone.display_name, None)]
    # What stays readable (the display name, in clear for people search) and the rows themselves
    # go when the erasures are replayed after the restore. (The lookup hash confirms a guessed
    # email only to a holder of the master key.)
    assert (await registry.residue(gone.person.id))["identity"] == [
        "profiles: 1 profile row (display name, bio, avatar)",
        "identity: 1 account row",
        "identity: 1 email lookup hash",
    ]
    code, out, err = await _privacy_command(privacy_settings, "replay-erasures")
    assert code == 0, out + err
    replayed = msgspec.json.decode(out)
    assert replayed["waiting"] == {} and replayed["subjects"] >= 1
    again = replayed["erased_again"][str(gone.person.id)]
    assert (again["profiles"], again["identity"]) == ({"profile": 1}, {"account": 1})
    assert await _identity_rows(privacy_settings, gone.person.id) == nothing
    # The profile, its avatar images, and the notifications to and from them are gone.
    assert (await api.get(gone.avatar[0])).status_code == 404
    acted = await main_db.fetch(
        "SELECT count(*) AS n FROM notification_actors WHERE actor_id = {}", gone.person.id
    )
    assert acted[0]["n"] == 0
    assert str(gone.person.id) not in await _people_named(api, gone.display_name)
    assert counts_of(job)["profiles"]["profile"] == 1 and counts_of(job)["avatars"]["avatar_objects"] == 2
    assert counts_of(job)["notifications"]["notifications"] >= len(gone.notifications)
    # The kept user lost nothing.
    assert (await api.get("/me", headers=kept.person.headers)).status_code == 200
    still = await registry.residue(kept.person.id)
    assert all(still[store] for store in ("identity", "main", "graph", "storage")), still
    # The receipt: counts and times, no personal data.
    receipts = await main_db.fetch("SELECT * FROM erasure_receipts WHERE job_id = {}", job["id"])
    assert len(receipts) == 1 and not receipts[0]["requested_by_admin"]
    text = receipts[0]["counts"]
    assert gone.email not in text and gone.person.handle not in text and gone.comments[0] not in text
    counts = msgspec.json.decode(text)
    assert counts["identity"]["account"] == 1 and counts["uploads"]["videos"] == 2
    assert counts["comments"]["comments_deleted"] + counts["comments"]["comments_anonymised"] == 3
    # Idempotent: every part again finds nothing more to erase.
    for part in registry.parts:
        assert not any((await part.erase(gone.person.id)).values()), part.name

    code, out = await _audit(privacy_settings, gone.person.id)
    assert code == 0, out
    assert out.splitlines() == [f"{store}: none" for store in registry.stores]
    code, out = await _audit(privacy_settings, kept.person.id)
    assert code == 1 and "identity: 1" in out and "comments by the user" in out


async def test_signing_in_during_the_grace_period_cancels_the_erasure(
    stack: Standalone, privacy_settings: Settings, main_db: Database, storage: Storage, others: list[Person]
) -> None:
    graceful = msgspec.structs.replace(privacy_settings, privacy_erasure_grace_days=30.0)
    application = create_app(graceful)
    async with AsyncTestClient(app=application) as api:
        user = await _seed(api, graceful, main_db, storage, others)
        registry = stack.registry
        before = await registry.residue(user.person.id)
        asked = await api.request("DELETE", "/me", json={"password": PASSWORD}, headers=user.person.headers)
        assert asked.status_code == 202
        status = (await api.get("/me/erasure", headers=user.person.headers)).json()
        assert status["state"] == "queued" and status["scheduled_for"] > status["requested_at"]
        await stack.worker.work()  # not due: nothing happens
        assert await registry.residue(user.person.id) == before
        refreshed = await api.post(
            "/auth/token", data={"grant_type": "refresh_token", "refresh_token": user.refresh_token}
        )
        assert refreshed.json()["error"] == "invalid_grant"  # asking signed every session out
        signed_in = await login(api, user.email)
        assert signed_in["access_token"]
        status = (await api.get("/me/erasure", headers=user.person.headers)).json()
        assert status["state"] == "cancelled"
        await stack.worker.work()
        after = await registry.residue(user.person.id)
        assert {k: v for k, v in after.items() if k != "identity"} == {
            k: v for k, v in before.items() if k != "identity"
        }
        assert after["identity"][:2] == before["identity"][:2]  # account and consents; one more session
        me = (await api.get("/me", headers=user.person.headers)).json()
        assert me["email"] == user.email
        listed = (await api.get(f"/comments/{user.answered_comment}")).json()
        assert listed["body"] == user.comments[0]


async def test_an_admin_erases_a_user_now_and_it_is_audited(
    api: Client,
    stack: Standalone,
    privacy_settings: Settings,
    main_db: Database,
    storage: Storage,
    others: list[Person],
) -> None:
    user, _ = await signed_up(api, "target")
    admin = await person(privacy_settings, role="admin")
    viewer = await person(privacy_settings)
    assert (await api.delete(f"/users/{user.id}", headers=viewer.headers)).status_code == 403
    assert (await api.delete(f"/users/{uuid.uuid4()}", headers=admin.headers)).status_code == 404
    asked = await api.delete(f"/users/{user.id}", headers=admin.headers)
    assert asked.status_code == 202, asked.text
    job = await run_jobs(stack, main_db, asked.json()["job_id"])
    assert job["state"] == "done"
    log = await main_db.fetch(
        "SELECT * FROM moderation_log WHERE action = 'user.erase' AND actor_id = {}", admin.id
    )
    assert len(log) == 1 and log[0]["target_user_id"] is None  # the erasure took the id out too
    receipt = await main_db.fetch(
        "SELECT requested_by_admin FROM erasure_receipts WHERE job_id = {}", job["id"]
    )
    assert receipt[0]["requested_by_admin"]
    assert await access_log(privacy_settings, user.id) == [(admin.id, "erase")]
    assert await stack.registry.residue(user.id) == {s: [] for s in stack.registry.stores}


async def test_an_admin_exports_a_user_and_it_is_recorded(
    api: Client, stack: Standalone, privacy_settings: Settings, main_db: Database
) -> None:
    user, body = await signed_up(api, "exported")
    admin = await person(privacy_settings, role="admin")
    viewer = await person(privacy_settings)
    refused = await api.post(f"/users/{user.id}/export", headers=viewer.headers)
    assert refused.status_code == 403
    unknown = await api.post(f"/users/{uuid.uuid4()}/export", headers=admin.headers)
    assert unknown.status_code == 404 and unknown.json()["error"] == "user_not_found"
    own = await api.post(f"/users/{admin.id}/export", headers=admin.headers)
    assert own.status_code == 403 and own.json()["error"] == "own_account"
    none_yet = await api.get(f"/users/{user.id}/export", headers=admin.headers)
    assert none_yet.status_code == 404 and none_yet.json()["error"] == "export_not_found"

    asked = await api.post(f"/users/{user.id}/export", headers=admin.headers)
    assert asked.status_code == 202, asked.text
    again = await api.post(f"/users/{user.id}/export", headers=admin.headers)
    assert again.status_code == 409 and again.json()["error"] == "export_running"
    assert (await api.post("/me/export", headers=user.headers)).status_code == 409  # one at a time
    await run_jobs(stack, main_db, asked.json()["job_id"])
    assert (await api.get(f"/users/{user.id}/export", headers=viewer.headers)).status_code == 403
    status = (await api.get(f"/users/{user.id}/export", headers=admin.headers)).json()
    assert status["state"] == "done" and status["download_url"], status
    archive = zipfile.ZipFile(io.BytesIO((await api.get(status["download_url"])).content))
    assert [a["email"] for a in _records(archive, "account")] == [body["email"]]
    mine = await api.get("/me/export", headers=user.headers)
    assert mine.status_code == 404  # the user's own status shows only exports they asked for

    log = await main_db.fetch(
        "SELECT target_user_id FROM moderation_log WHERE action = 'user.export' AND actor_id = {}", admin.id
    )
    assert [row["target_user_id"] for row in log] == [user.id]
    assert await access_log(privacy_settings, user.id) == [(admin.id, "export")]


async def test_export_links_are_signed_and_expire(api: Client, stack: Standalone, main_db: Database) -> None:
    user, _ = await signed_up(api, "linked")
    archive = await _export(api, stack, main_db, user)
    assert "account.json" in archive.namelist()
    status = (await api.get("/me/export", headers=user.headers)).json()
    token = status["download_url"].rsplit("/", 1)[1]
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    refused = await api.get(f"/privacy/exports/{forged}")
    assert refused.status_code == 403 and refused.json()["error"] == "signed_url_invalid"
    await main_db.fetch(
        "UPDATE privacy_jobs SET expires_at = now() - interval '1 second' WHERE id = {}", status["job_id"]
    )
    await stack.worker.work()  # the sweep deletes the archive
    gone = await api.get(status["download_url"])
    assert gone.status_code == 404 and gone.json()["error"] == "export_not_found"
    assert (await api.get("/me/export", headers=user.headers)).json()["state"] == "expired"

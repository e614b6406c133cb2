"""A registration cut short between its two databases, for real: the identity account committed,
then the main database's pool closed under the registration, so the public ``users`` row fails.

The account left behind holds an email and personal data with no user to sign in: a retry with
the same email takes it back, a registration still under way is not mistaken for one cut short,
and the retention job sweeps those nobody retries.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import msgspec
import pytest

from app.accounts.interrupted import GRACE_SECONDS, sweep_interrupted_registrations
from app.accounts.schemas import Registration
from app.accounts.service import AccountService
from app.accounts.tables import TABLES as MAIN_TABLES
from app.identity.crypto import Keyring
from app.identity.store import IdentityStore
from app.identity.tables import TABLES as IDENTITY_TABLES
from core.db import Database
from core.errors import Conflict
from core.settings import Settings
from server.retention import run_retention_once
from tests.users import PASSWORD, unique_handle


class Registrar(msgspec.Struct):
    accounts: AccountService
    store: IdentityStore
    main: Database
    identity: Database


@pytest.fixture
async def registrar(settings: Settings) -> AsyncIterator[Registrar]:
    """Registration on databases of the test's own (the tables bound to them: no app here)."""
    main = Database("main", settings.database_url, MAIN_TABLES)
    identity = Database("identity", settings.identity_database_url, IDENTITY_TABLES)
    await main.start(max_size=2)
    await identity.start(max_size=2)
    store = IdentityStore(Keyring.from_settings(settings.privacy_master_key))
    yield Registrar(AccountService(store, settings.minimum_age, main=main), store, main, identity)
    await identity.stop()
    await main.stop()


def form(handle: str | None = None) -> Registration:
    handle = handle or unique_handle("cut")
    return Registration(
        email=f"{handle}@example.com", password=PASSWORD, handle=handle, consents={"analytics": True}
    )


async def cut_short(registrar: Registrar, registration: Registration) -> uuid.UUID:
    """Register with the main database's pool closed: the identity account is written, the public
    row is not. The pool is opened again afterwards. The id of the account left behind."""
    pool = registrar.main.engine.pool
    assert pool is not None
    await pool.close()  # closed, and still the engine's: the next query fails as in an outage
    try:
        with pytest.raises(asyncpg.InterfaceError, match="pool is closed"):
            await registrar.accounts.register(registration)
    finally:
        registrar.main.engine.pool = None
        await registrar.main.start(max_size=2)
    left = await registrar.store.by_email(registration.email)
    assert left is not None  # the identity account was committed
    assert not await registrar.main.fetch("SELECT 1 FROM users WHERE id = {}", left.id)
    return left.id


async def identity_rows(registrar: Registrar, account: uuid.UUID) -> dict[str, int]:
    rows = await registrar.identity.fetch(
        "SELECT (SELECT count(*) FROM accounts WHERE id = {}) AS accounts,"
        " (SELECT count(*) FROM account_keys WHERE account = {}) AS keys,"
        " (SELECT count(*) FROM consents WHERE account = {}) AS consents",
        account,
        account,
        account,
    )
    return {name: int(n) for name, n in rows[0].items()}


async def test_a_retry_after_a_registration_cut_short_succeeds(registrar: Registrar) -> None:
    registration = form()
    left = await cut_short(registrar, registration)
    assert await identity_rows(registrar, left) == {"accounts": 1, "keys": 1, "consents": 1}

    user = await registrar.accounts.register(registration)
    assert user.handle == registration.handle and user.id != left
    assert await identity_rows(registrar, left) == {"accounts": 0, "keys": 0, "consents": 0}
    signed_in = await registrar.accounts.authenticate(registration.email, PASSWORD)
    assert signed_in is not None and signed_in.id == user.id
    # The email belongs to a user that exists now: another registration of it is refused.
    again = Registration(email=registration.email, password=PASSWORD, handle=unique_handle("again"))
    with pytest.raises(Conflict) as refused:
        await registrar.accounts.register(again)
    assert refused.value.code == "email_taken"
    assert await identity_rows(registrar, user.id) == {"accounts": 1, "keys": 1, "consents": 1}


async def test_a_registration_under_way_is_not_taken_for_one_cut_short(registrar: Registrar) -> None:
    registration = form()
    left = await cut_short(registrar, registration)
    held, release = asyncio.Event(), asyncio.Event()

    async def writing_its_public_row() -> None:  # what the first registration holds while it writes
        async with registrar.store.holding(left) as present:
            assert present
            held.set()
            await release.wait()

    holder = asyncio.create_task(writing_its_public_row())
    try:
        await held.wait()
        with pytest.raises(Conflict) as refused:
            await registrar.accounts.register(registration)
        assert refused.value.code == "email_taken"
        assert await identity_rows(registrar, left) == {"accounts": 1, "keys": 1, "consents": 1}
    finally:
        release.set()
        await holder
    assert (await registrar.accounts.register(registration)).handle == registration.handle


async def test_the_retention_job_sweeps_accounts_nobody_retried(
    registrar: Registrar, settings: Settings
) -> None:
    old, fresh = await cut_short(registrar, form()), await cut_short(registrar, form())
    complete = await registrar.accounts.register(form())
    older = GRACE_SECONDS + 60
    await registrar.identity.fetch(
        "UPDATE accounts SET created_at = now() - make_interval(secs => {}) WHERE id = ANY({})",
        older,
        [old, complete.id],
    )

    report = await run_retention_once(settings)
    assert report["interrupted_registrations"] == 1
    assert await identity_rows(registrar, old) == {"accounts": 0, "keys": 0, "consents": 0}
    assert (await identity_rows(registrar, fresh))["accounts"] == 1  # it may still be under way
    assert await registrar.accounts.authenticate(f"{complete.handle}@example.com", PASSWORD) is not None
    # A second pass, here or in another process, finds nothing; small batches see every account.
    assert await sweep_interrupted_registrations(registrar.main, registrar.identity, batch=1) == 0
    await registrar.identity.fetch(
        "UPDATE accounts SET created_at = now() - make_interval(secs => {}) WHERE id = {}", older, fresh
    )
    assert await sweep_interrupted_registrations(registrar.main, registrar.identity, batch=1) == 1
    assert (await identity_rows(registrar, fresh))["accounts"] == 0

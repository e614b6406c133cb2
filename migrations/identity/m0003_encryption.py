"""Crypto-shredding: personal fields sealed under a data key per account (docs/privacy.md).

Adds the sealed columns, the ``account_keys`` table (each account's data key, wrapped by the
master key), the policy version of each consent and the log of admins' access to personal data;
then seals every existing row and drops the plaintext columns. Sealing needs the master key, which
migrations do not know: ``mydrtv migrate`` hands a ``seal_account`` function in ``context``
(``app/identity/store.py``). A database with no accounts yet needs none.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from piccolo.engine.postgres import PostgresEngine
from piccolo.querystring import QueryString

from migrations.runner import NotMigrated

STATEMENTS = [
    """
    ALTER TABLE accounts
        ADD COLUMN email_hash bytea UNIQUE,
        ADD COLUMN email_sealed bytea,
        ADD COLUMN password_hash_sealed bytea,
        ADD COLUMN birth_date_sealed bytea
    """,
    """
    CREATE TABLE account_keys (
        account uuid PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
        master_key_id text NOT NULL,
        wrapped_key bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    "CREATE INDEX account_keys_master ON account_keys (master_key_id)",
    # NULL: recorded before policy versions were.
    "ALTER TABLE consents ADD COLUMN policy_version varchar(64)",
    # Who read or acted on whose personal data; no foreign key: the record outlives the account.
    """
    CREATE TABLE personal_data_access (
        id bigserial PRIMARY KEY,
        admin_id uuid NOT NULL,
        subject_id uuid NOT NULL,
        action varchar(64) NOT NULL,
        at timestamptz NOT NULL DEFAULT now()
    )
    """,
    "CREATE INDEX personal_data_access_subject ON personal_data_access (subject_id, id)",
]

_FINISH = [
    "ALTER TABLE accounts DROP COLUMN email, DROP COLUMN password_hash, DROP COLUMN birth_date",
    "ALTER TABLE accounts ALTER COLUMN email_sealed SET NOT NULL,"
    " ALTER COLUMN password_hash_sealed SET NOT NULL",
]

SealAccount = Callable[[uuid.UUID, str, str, date | None], Mapping[str, Any]]


async def run(engine: PostgresEngine, context: Mapping[str, Any]) -> None:
    rows = await engine.run_querystring(
        QueryString("SELECT id, email, password_hash, birth_date FROM accounts ORDER BY id")
    )
    if rows:
        seal: SealAccount | None = context.get("seal_account")
        if seal is None:
            raise NotMigrated(
                f"the identity database holds {len(rows)} account(s) in plaintext; sealing them needs"
                " the master key: run `mydrtv migrate` with MYDRTV_PRIVACY_MASTER_KEY set"
            )
        for row in rows:
            sealed = seal(row["id"], row["email"], row["password_hash"], row["birth_date"])
            await engine.run_querystring(
                QueryString(
                    "INSERT INTO account_keys (account, master_key_id, wrapped_key) VALUES ({}, {}, {})",
                    row["id"],
                    sealed["master_key_id"],
                    sealed["wrapped_key"],
                )
            )
            await engine.run_querystring(
                QueryString(
                    "UPDATE accounts SET email_hash = {}, email_sealed = {}, password_hash_sealed = {},"
                    " birth_date_sealed = {} WHERE id = {}",
                    sealed["email_hash"],
                    sealed["email_sealed"],
                    sealed["password_hash_sealed"],
                    sealed["birth_date_sealed"],
                    row["id"],
                )
            )
    for statement in _FINISH:
        await engine.run_ddl(statement)

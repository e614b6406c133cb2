"""Profiles' bios sealed under the account's data key, like the account's own fields (m0003).

Adds ``profiles.bio_sealed``, seals every bio there is and drops the plaintext ``bio`` column,
so that shredding an account's key leaves its bio unreadable in every copy of the data made
from then on. A bio whose account has no data key any more (shredded, its erasure cut short)
is dropped, not sealed: nothing may read it again. The display name stays in clear (people
search's indexes need the text; docs/privacy.md, "Profiles and crypto-shredding"); the avatar
column is a content digest.

Sealing needs the master key, which migrations do not know: ``mydrtv migrate`` hands a
``seal_field`` function in ``context`` (``app/identity/store.py``). A database with no bios
needs none.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from piccolo.engine.postgres import PostgresEngine
from piccolo.querystring import QueryString

from migrations.runner import NotMigrated

STATEMENTS = ["ALTER TABLE profiles ADD COLUMN bio_sealed bytea"]

_FINISH = ["ALTER TABLE profiles DROP COLUMN bio"]

# (account id, master key id, wrapped data key, field, plaintext) -> the field sealed
SealField = Callable[[uuid.UUID, str, bytes, str, str], bytes]


async def run(engine: PostgresEngine, context: Mapping[str, Any]) -> None:
    rows = await engine.run_querystring(
        QueryString(
            "SELECT p.account, p.bio, k.master_key_id, k.wrapped_key FROM profiles p"
            " LEFT JOIN account_keys k ON k.account = p.account WHERE p.bio IS NOT NULL ORDER BY p.account"
        )
    )
    if rows:
        seal: SealField | None = context.get("seal_field")
        if seal is None:
            raise NotMigrated(
                f"the identity database holds {len(rows)} profile bio(s) in plaintext; sealing them"
                " needs the master key: run `mydrtv migrate` with MYDRTV_PRIVACY_MASTER_KEY set"
            )
        for row in rows:
            sealed = None
            if row["wrapped_key"] is not None:
                sealed = seal(row["account"], row["master_key_id"], row["wrapped_key"], "bio", row["bio"])
            await engine.run_querystring(
                QueryString("UPDATE profiles SET bio_sealed = {} WHERE account = {}", sealed, row["account"])
            )
    for statement in _FINISH:
        await engine.run_ddl(statement)

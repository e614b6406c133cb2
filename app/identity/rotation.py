"""Master-key rotation: rewrap every data key under the new master key.

The data keys themselves and every sealed field stay as they are; only the small wrapped keys
are rewritten, with the email lookup hashes (derived from the master key). Each batch is one
transaction and picks only keys not yet under the current master key, so a rotation cut short
is finished by running it again, and API processes configured with both keys serve throughout.
"""

from __future__ import annotations

import msgspec

from app.identity.crypto import Keyring
from app.identity.tables import Account, AccountKey


class RotationReport(msgspec.Struct):
    master_key_id: str  # the current key's id, which every data key is now wrapped by
    rewrapped: int
    left: int  # data keys still under another master key (0 when done)


async def rotate_master_key(keyring: Keyring, batch: int = 500) -> RotationReport:
    rewrapped = 0
    while True:
        async with AccountKey._meta.db.transaction():
            rows = await AccountKey.raw(
                "SELECT k.account, k.master_key_id, k.wrapped_key, a.email_sealed"
                " FROM account_keys k JOIN accounts a ON a.id = k.account"
                " WHERE k.master_key_id <> {} ORDER BY k.account LIMIT {} FOR UPDATE OF k SKIP LOCKED",
                keyring.current_id,
                batch,
            )
            for row in rows:
                data_key = keyring.unwrap(row["account"], row["master_key_id"], row["wrapped_key"])
                master_key_id, wrapped = keyring.wrap(data_key)
                await AccountKey.raw(
                    "UPDATE account_keys SET master_key_id = {}, wrapped_key = {} WHERE account = {}",
                    master_key_id,
                    wrapped,
                    row["account"],
                )
                email = data_key.open("email", row["email_sealed"])
                await Account.raw(
                    "UPDATE accounts SET email_hash = {} WHERE id = {}",
                    keyring.email_hash(email),
                    row["account"],
                )
        rewrapped += len(rows)
        if len(rows) < batch:
            break
    left = await AccountKey.raw(
        "SELECT count(*) AS n FROM account_keys WHERE master_key_id <> {}", keyring.current_id
    )
    return RotationReport(master_key_id=keyring.current_id, rewrapped=rewrapped, left=int(left[0]["n"]))

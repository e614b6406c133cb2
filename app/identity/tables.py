"""Tables of the identity database (personal data; see docs/privacy.md).

Personal fields are stored sealed (``app/identity/crypto.py``); the store reads and writes them
with SQL, these classes bind the tables to the identity engine and name their columns.
"""

from piccolo.columns import UUID, BigSerial, Boolean, Bytea, ForeignKey, Text, Timestamptz, Varchar
from piccolo.table import Table


class Account(Table, tablename="accounts"):
    id = UUID(primary_key=True)  # the same opaque id the main database's users row has
    email_hash = Bytea(null=True, unique=True)  # keyed hash of the normalised email; NULL once shredded
    email_sealed = Bytea()
    password_hash_sealed = Bytea()  # the argon2id hash, sealed as well
    birth_date_sealed = Bytea(null=True, default=None)
    created_at = Timestamptz()


class AccountKey(Table, tablename="account_keys"):
    account = ForeignKey(Account, primary_key=True)
    master_key_id = Text()
    wrapped_key = Bytea()
    created_at = Timestamptz()


class Consent(Table, tablename="consents"):
    id = BigSerial(primary_key=True)
    account = ForeignKey(Account)
    purpose = Varchar(length=64)
    granted = Boolean()
    policy_version = Varchar(length=64, null=True, default=None)
    recorded_at = Timestamptz()


class RefreshToken(Table, tablename="refresh_tokens"):
    id = UUID(primary_key=True)
    family = UUID()
    account = ForeignKey(Account)
    token_hash = Varchar(length=64)
    issued_at = Timestamptz()
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


class PersonalDataAccess(Table, tablename="personal_data_access"):
    id = BigSerial(primary_key=True)
    admin_id = UUID()
    subject_id = UUID()
    action = Varchar(length=64)
    at = Timestamptz()


TABLES = (Account, AccountKey, Consent, RefreshToken, PersonalDataAccess)

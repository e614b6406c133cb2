"""Tables of the identity database (personal data; see docs/privacy.md)."""

from piccolo.columns import UUID, BigSerial, Boolean, Date, ForeignKey, Text, Timestamptz, Varchar
from piccolo.table import Table


class Account(Table, tablename="accounts"):
    id = UUID(primary_key=True)  # the same opaque id the main database's users row has
    email = Varchar(length=254, unique=True)  # stored normalised and lower-cased
    password_hash = Text()
    birth_date = Date(null=True, default=None)
    created_at = Timestamptz()


class Consent(Table, tablename="consents"):
    id = BigSerial(primary_key=True)
    account = ForeignKey(Account)
    purpose = Varchar(length=64)
    granted = Boolean()
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


TABLES = (Account, Consent, RefreshToken)

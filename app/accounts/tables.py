"""Tables of the main database that describe users (public data only)."""

from piccolo.columns import UUID, Boolean, Timestamptz, Varchar
from piccolo.table import Table

ROLES = ("viewer", "moderator", "admin")


class User(Table, tablename="users"):
    id = UUID(primary_key=True)
    handle = Varchar(length=30, unique=True)
    role = Varchar(length=16, default="viewer")
    created_at = Timestamptz()
    # Whether the user's activity may personalize (their own and others' suggestions and
    # recommendations): the identity database's consent, mirrored without personal data.
    personalization = Boolean(default=True)


TABLES = (User,)

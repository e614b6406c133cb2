"""Public users: an opaque id, a public handle and a role. No personal data lives here."""

STATEMENTS = [
    """
    CREATE TABLE users (
        id uuid PRIMARY KEY,
        handle varchar(30) NOT NULL UNIQUE,
        role varchar(16) NOT NULL DEFAULT 'viewer'
            CHECK (role IN ('viewer', 'moderator', 'admin')),
        created_at timestamptz NOT NULL DEFAULT now()
    )
    """,
]

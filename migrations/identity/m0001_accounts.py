"""Personal data and credentials: email, password hash, birth date, consents, refresh tokens."""

STATEMENTS = [
    """
    CREATE TABLE accounts (
        id uuid PRIMARY KEY,
        email varchar(254) NOT NULL UNIQUE,
        password_hash text NOT NULL,
        birth_date date,
        created_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    """
    CREATE TABLE consents (
        id bigserial PRIMARY KEY,
        account uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        purpose varchar(64) NOT NULL,
        granted boolean NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    "CREATE INDEX consents_account ON consents (account)",
    """
    CREATE TABLE refresh_tokens (
        id uuid PRIMARY KEY,
        family uuid NOT NULL,
        account uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        token_hash char(64) NOT NULL,
        issued_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        used_at timestamptz,
        revoked_at timestamptz
    )
    """,
    "CREATE INDEX refresh_tokens_family ON refresh_tokens (family)",
    "CREATE INDEX refresh_tokens_account ON refresh_tokens (account)",
]

"""The transactional outbox: events written in the same transaction as the change they report."""

STATEMENTS = [
    """
    CREATE TABLE outbox (
        id bigserial PRIMARY KEY,
        channel text NOT NULL,
        payload bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        published_at timestamptz
    )
    """,
    "CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL",
]

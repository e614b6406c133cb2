"""Rankings precomputed for heavy users: people you may know and social video picks.

A user whose friends of friends (or followees' ratings and watches) run to more paths than one
request may count gets the exact ranking computed in the background (``app/social/rankings.py``)
and stored here; the endpoints read it in the round trip that reads the user's consent, and filter
it against the system of record as they do a live ranking. ``withdrawn`` holds the followees who
had withdrawn personalization when it was computed: a ranking made with another list is not used,
so a withdrawal applies at once. A row is derived data: deleted with its user, recomputed when
their own relations change and at least every ``MYDRTV_RANKINGS_REFRESH_SECONDS``.
"""

STATEMENTS = [
    """
    CREATE TABLE precomputed_rankings (
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        kind varchar(6) NOT NULL CHECK (kind IN ('people', 'videos')),
        ranking jsonb NOT NULL,
        withdrawn text[] NOT NULL DEFAULT '{}',
        paths integer NOT NULL,
        computed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (user_id, kind)
    )
    """,
    "CREATE INDEX precomputed_rankings_age ON precomputed_rankings (computed_at)",
]

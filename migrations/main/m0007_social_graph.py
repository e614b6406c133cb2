"""The social graph's system of record: follows, blocks, mutes, dismissed suggestions, watches.

The graph database holds a projection of these tables (see graph/); it can always be rebuilt
from them with ``mydrtv graph rebuild``.
"""

STATEMENTS = [
    """
    CREATE TABLE follows (
        follower_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        followee_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (follower_id, followee_id),
        CHECK (follower_id <> followee_id)
    )
    """,
    # Lists are newest first: "following" pages by follower, "followers" pages by followee.
    "CREATE INDEX follows_following ON follows (follower_id, created_at DESC, followee_id DESC)",
    "CREATE INDEX follows_followers ON follows (followee_id, created_at DESC, follower_id DESC)",
    """
    CREATE TABLE blocks (
        blocker_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        blocked_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (blocker_id, blocked_id),
        CHECK (blocker_id <> blocked_id)
    )
    """,
    "CREATE INDEX blocks_blocked ON blocks (blocked_id, blocker_id)",
    "CREATE INDEX blocks_newest ON blocks (blocker_id, created_at DESC, blocked_id DESC)",
    """
    CREATE TABLE mutes (
        muter_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        muted_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (muter_id, muted_id),
        CHECK (muter_id <> muted_id)
    )
    """,
    "CREATE INDEX mutes_newest ON mutes (muter_id, created_at DESC, muted_id DESC)",
    """
    CREATE TABLE suggestion_dismissals (
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        dismissed_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (user_id, dismissed_id)
    )
    """,
    """
    CREATE TABLE watches (
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        video_id uuid NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
        first_watched_at timestamptz NOT NULL DEFAULT now(),
        last_watched_at timestamptz NOT NULL DEFAULT now(),
        times integer NOT NULL DEFAULT 1 CHECK (times > 0),
        PRIMARY KEY (user_id, video_id)
    )
    """,
    "CREATE INDEX watches_by_video ON watches (video_id)",
]

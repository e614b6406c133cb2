"""The video catalog, private-video members and star ratings.

A video is a catalog row before it has any media: the media issue adds files and moves ``status``
from ``draft`` through ``uploaded`` and ``processing`` to ``ready`` (or ``failed``).
"""

STATEMENTS = [
    """
    CREATE TABLE videos (
        id uuid PRIMARY KEY,
        owner_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        title varchar(200) NOT NULL CHECK (length(btrim(title)) > 0),
        description text NOT NULL DEFAULT '' CHECK (length(description) <= 5000),
        visibility varchar(10) NOT NULL DEFAULT 'public'
            CHECK (visibility IN ('public', 'unlisted', 'private')),
        status varchar(12) NOT NULL DEFAULT 'draft'
            CHECK (status IN ('draft', 'uploaded', 'processing', 'ready', 'failed')),
        duration_seconds double precision CHECK (duration_seconds >= 0),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    "CREATE INDEX videos_public_newest ON videos (created_at DESC, id DESC) WHERE visibility = 'public'",
    "CREATE INDEX videos_by_owner ON videos (owner_id, created_at DESC, id DESC)",
    """
    CREATE TABLE video_members (
        video_id uuid NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        added_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (video_id, user_id)
    )
    """,
    "CREATE INDEX video_members_by_user ON video_members (user_id)",
    """
    CREATE TABLE ratings (
        video_id uuid NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        stars smallint NOT NULL CHECK (stars BETWEEN 1 AND 5),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (video_id, user_id)
    )
    """,
    "CREATE INDEX ratings_by_user ON ratings (user_id, updated_at DESC)",
]

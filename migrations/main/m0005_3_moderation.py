"""Moderation: timeouts and bans, slow mode, held-word lists, reports, and the audit log.

The audit log keeps plain ids without foreign keys, so it outlives the comments, videos and
users it mentions.
"""

STATEMENTS = [
    """
    CREATE TABLE moderation_restrictions (
        id bigserial PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        kind varchar(8) NOT NULL CHECK (kind IN ('timeout', 'ban')),
        video_id uuid REFERENCES videos (id) ON DELETE CASCADE,  -- NULL: everywhere
        reason text NOT NULL DEFAULT '',
        created_by uuid REFERENCES users (id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        ends_at timestamptz,  -- NULL: until lifted (bans only)
        lifted_at timestamptz,
        lifted_by uuid REFERENCES users (id) ON DELETE SET NULL,
        CHECK (kind = 'ban' OR ends_at IS NOT NULL)
    )
    """,
    "CREATE INDEX moderation_restrictions_live ON moderation_restrictions (user_id) WHERE lifted_at IS NULL",
    """
    CREATE TABLE video_moderation (
        video_id uuid PRIMARY KEY REFERENCES videos (id) ON DELETE CASCADE,
        slow_mode_seconds integer NOT NULL DEFAULT 0 CHECK (slow_mode_seconds BETWEEN 0 AND 86400)
    )
    """,
    """
    CREATE TABLE held_words (
        id bigserial PRIMARY KEY,
        word text NOT NULL CHECK (length(word) BETWEEN 1 AND 100),
        video_id uuid REFERENCES videos (id) ON DELETE CASCADE,  -- NULL: every video
        created_by uuid REFERENCES users (id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE NULLS NOT DISTINCT (video_id, word)
    )
    """,
    """
    CREATE TABLE comment_reports (
        comment_id bigint NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
        reporter_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        reason text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        resolved_at timestamptz,
        PRIMARY KEY (comment_id, reporter_id)
    )
    """,
    "CREATE INDEX comment_reports_open ON comment_reports (comment_id) WHERE resolved_at IS NULL",
    """
    CREATE TABLE moderation_log (
        id bigserial PRIMARY KEY,
        actor_id uuid,
        action varchar(32) NOT NULL,
        video_id uuid,
        comment_id bigint,
        target_user_id uuid,
        reason text NOT NULL DEFAULT '',
        details jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    "CREATE INDEX moderation_log_by_video ON moderation_log (video_id, id DESC)",
    "CREATE INDEX moderation_log_by_target ON moderation_log (target_user_id, id DESC)",
]

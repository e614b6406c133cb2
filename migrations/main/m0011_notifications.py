"""Notifications: what happened around a user, kept for them until they read it.

One row per notification; people who did it are rows of ``notification_actors``, so a group
("Ana and 4 others followed you") gains and loses actors as they act and undo, and its count is
exact. ``source`` names what an actor did (``comment:<id>`` for a reply or a mention, empty for a
follow), so deleting one comment withdraws just its part. ``group_key`` is what groups within a
kind (the replied-to comment for replies, the party for invites); only unread notifications
gather more actors. Users are referenced by opaque id only; handles are read at display time.
"""

KINDS = (
    "reply",
    "mention",
    "follow",
    "friend",
    "party_invite",
    "upload_ready",
    "upload_failed",
    "moderation",
)
_KIND_CHECK = "kind IN (" + ", ".join(f"'{kind}'" for kind in KINDS) + ")"

STATEMENTS = [
    f"""
    CREATE TABLE notifications (
        id bigserial PRIMARY KEY,
        recipient_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        kind text NOT NULL CHECK ({_KIND_CHECK}),
        group_key text NOT NULL,
        video_id uuid REFERENCES videos (id) ON DELETE CASCADE,
        comment_id bigint REFERENCES comments (id) ON DELETE CASCADE,
        party_id uuid REFERENCES parties (id) ON DELETE CASCADE,
        data jsonb NOT NULL DEFAULT '{{}}',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        read_at timestamptz,
        publication_keys text[] NOT NULL DEFAULT '{{}}'
    )
    """,
    # The list is latest activity first; the unread ones are counted and grouped into.
    "CREATE INDEX notifications_latest ON notifications (recipient_id, updated_at DESC, id DESC)",
    """
    CREATE INDEX notifications_unread ON notifications (recipient_id, kind, group_key)
    WHERE read_at IS NULL
    """,
    # Deleting a video, comment or party deletes what was about it (the foreign keys' look-ups).
    "CREATE INDEX notifications_by_comment ON notifications (comment_id) WHERE comment_id IS NOT NULL",
    "CREATE INDEX notifications_by_video ON notifications (video_id) WHERE video_id IS NOT NULL",
    "CREATE INDEX notifications_by_party ON notifications (party_id) WHERE party_id IS NOT NULL",
    """
    CREATE TABLE notification_actors (
        notification_id bigint NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
        actor_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        source text NOT NULL DEFAULT '',
        acted_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (notification_id, actor_id, source)
    )
    """,
    "CREATE INDEX notification_actors_by_actor ON notification_actors (actor_id)",
    "CREATE INDEX notification_actors_by_source ON notification_actors (source) WHERE source <> ''",
    f"""
    CREATE TABLE notification_settings (
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        kind text NOT NULL CHECK ({_KIND_CHECK}),
        enabled boolean NOT NULL,
        PRIMARY KEY (user_id, kind)
    )
    """,
]

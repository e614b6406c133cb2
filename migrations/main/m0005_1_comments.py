"""Comments on videos: threads one level deep, optional media-position anchors, moderation states.

``status``: ``visible`` (public), ``held`` (awaiting review: only the author and moderators see
it), ``removed`` (by a moderator; kept, text included, for the audit trail) or ``deleted`` (by its
author; the text is erased). ``publication_keys`` are the outbox keys of the live events that
carried the text, so they can be withdrawn from the channel's history when the comment goes.
"""

STATEMENTS = [
    """
    CREATE TABLE comments (
        id bigserial PRIMARY KEY,
        video_id uuid NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
        author_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        parent_id bigint REFERENCES comments (id) ON DELETE CASCADE,
        root_id bigint REFERENCES comments (id) ON DELETE CASCADE,
        body text NOT NULL,
        position_seconds double precision CHECK (position_seconds >= 0),
        status varchar(8) NOT NULL DEFAULT 'visible'
            CHECK (status IN ('visible', 'held', 'removed', 'deleted')),
        publication_keys text[] NOT NULL DEFAULT '{}',
        flagged_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        edited_at timestamptz,
        hidden_at timestamptz,
        hidden_by uuid REFERENCES users (id) ON DELETE SET NULL,
        CHECK ((parent_id IS NULL) = (root_id IS NULL))
    )
    """,
    # Newest first per video (top-level), a thread in order, the replay timeline, the review queue.
    """
    CREATE INDEX comments_newest ON comments (video_id, id DESC)
        WHERE root_id IS NULL AND status IN ('visible', 'held')
    """,
    "CREATE INDEX comments_thread ON comments (root_id, id) WHERE status IN ('visible', 'held')",
    """
    CREATE INDEX comments_timeline ON comments (video_id, position_seconds, id)
        WHERE position_seconds IS NOT NULL AND status IN ('visible', 'held')
    """,
    "CREATE INDEX comments_flagged ON comments (flagged_at, id) WHERE flagged_at IS NOT NULL",
    "CREATE INDEX comments_by_author ON comments (author_id, id DESC)",
]

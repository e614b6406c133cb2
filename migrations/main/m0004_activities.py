"""Activities: what each user did, the source of followers' feeds.

Features record an activity in the same transaction as the change it describes
(``app.feed.activity.record``); the feed reads them through the follow graph.
"""

STATEMENTS = [
    """
    CREATE TABLE activities (
        id bigserial PRIMARY KEY,
        actor_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        verb varchar(24) NOT NULL
            CHECK (verb IN ('rated', 'commented', 'started_party', 'followed', 'uploaded')),
        video_id uuid REFERENCES videos (id) ON DELETE CASCADE,
        subject_id uuid REFERENCES users (id) ON DELETE CASCADE,
        object_id text,
        data jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    "CREATE INDEX activities_by_actor ON activities (actor_id, id DESC)",
]

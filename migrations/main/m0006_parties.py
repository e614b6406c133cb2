"""Watch parties: the party's record, its members and its chat.

Only what must last is here. What changes many times a minute (playback, host, control mode,
readiness) is the party's live state, kept in Redis by ``app/parties/live.py``. ``video_id``,
``control`` and ``wait_for_buffering`` are what the party started with: if the live state is ever
lost, the party starts again from them.
"""

STATEMENTS = [
    """
    CREATE TABLE parties (
        id uuid PRIMARY KEY,
        video_id uuid NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
        creator_id uuid REFERENCES users (id) ON DELETE SET NULL,  -- null once the account is erased
        visibility varchar(10) NOT NULL CHECK (visibility IN ('public', 'private')),
        invite varchar(64) NOT NULL UNIQUE,
        control varchar(10) NOT NULL CHECK (control IN ('host', 'everyone')),
        wait_for_buffering boolean NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        ended_at timestamptz
    )
    """,
    """
    CREATE INDEX parties_public_live ON parties (created_at DESC, id DESC)
        WHERE visibility = 'public' AND ended_at IS NULL
    """,
    "CREATE INDEX parties_by_video ON parties (video_id) WHERE ended_at IS NULL",
    """
    CREATE TABLE party_members (
        party_id uuid NOT NULL REFERENCES parties (id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        joined_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        PRIMARY KEY (party_id, user_id)
    )
    """,
    "CREATE INDEX party_members_by_user ON party_members (user_id, joined_at DESC)",
    """
    CREATE TABLE party_messages (
        id bigserial PRIMARY KEY,
        party_id uuid NOT NULL REFERENCES parties (id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        text varchar(1000) NOT NULL CHECK (length(btrim(text)) > 0),
        video_id uuid NOT NULL,
        position double precision NOT NULL CHECK (position >= 0),
        created_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    "CREATE INDEX party_messages_by_party ON party_messages (party_id, id DESC)",
]

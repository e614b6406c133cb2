"""Privacy jobs (exports and erasures), erasure receipts, and the stand-in author of erased comments.

A job is claimed with ``FOR UPDATE SKIP LOCKED`` under a lease, like the transcoding queue. An
erasure records each finished step in ``steps_done``, so a worker killed mid-way leaves a job that
the next claim resumes where it stopped. ``user_id`` has no foreign key: the job outlives the user.
At most one export and one erasure per user is open (queued or running) at a time.

An erasure waits in ``queued`` until ``run_after`` (the grace period); cancelling it marks it
``cancelled``. ``erasure_receipts`` keeps what was erased and when, counts only.

The first erasure adds the user ``00000000-0000-0000-0000-000000000000`` (handle ``[deleted]``,
which no registration can take): the stand-in author of erased comments that others replied to.
"""

STATEMENTS = [
    """
    CREATE TABLE privacy_jobs (
        id bigserial PRIMARY KEY,
        kind varchar(8) NOT NULL CHECK (kind IN ('export', 'erase')),
        user_id uuid NOT NULL,
        requested_by uuid,  -- NULL: the user; else the admin who asked
        state varchar(10) NOT NULL DEFAULT 'queued'
            CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled', 'expired')),
        run_after timestamptz NOT NULL DEFAULT now(),
        lease_until timestamptz,
        claim uuid,
        worker text,
        attempts integer NOT NULL DEFAULT 0,
        steps_done text[] NOT NULL DEFAULT '{}',
        counts jsonb NOT NULL DEFAULT '{}',
        videos uuid[] NOT NULL DEFAULT '{}',  -- erasure: the user's videos, for the storage audit
        progress real NOT NULL DEFAULT 0,
        archive_key text,
        archive_bytes bigint,
        expires_at timestamptz,
        last_error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz
    )
    """,
    """
    CREATE UNIQUE INDEX privacy_jobs_one_open ON privacy_jobs (user_id, kind)
        WHERE state IN ('queued', 'running')
    """,
    "CREATE INDEX privacy_jobs_due ON privacy_jobs (run_after, id) WHERE state IN ('queued', 'running')",
    "CREATE INDEX privacy_jobs_by_user ON privacy_jobs (user_id, id DESC)",
    """
    CREATE INDEX privacy_jobs_archives ON privacy_jobs (expires_at)
        WHERE kind = 'export' AND archive_key IS NOT NULL
    """,
    """
    CREATE TABLE erasure_receipts (
        id bigserial PRIMARY KEY,
        job_id bigint NOT NULL UNIQUE,
        subject uuid NOT NULL,  -- the erased id: opaque, and nothing refers to it any more
        requested_by_admin boolean NOT NULL,
        requested_at timestamptz NOT NULL,
        erased_at timestamptz NOT NULL DEFAULT now(),
        counts jsonb NOT NULL
    )
    """,
    # An erasure looks up which comments others replied to, whatever their state.
    "CREATE INDEX comments_by_parent ON comments (parent_id) WHERE parent_id IS NOT NULL",
    "CREATE INDEX comments_by_root ON comments (root_id) WHERE root_id IS NOT NULL",
]

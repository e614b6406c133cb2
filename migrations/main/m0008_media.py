"""Media: where a video's HLS lives, and the transcoding queue.

A finished transcode is a *generation*: every file under ``videos/{id}/hls/{generation}/`` in
storage. ``media_generation`` names the one served; it changes only when a whole new generation
is in storage, so no half-written rendition is ever served. The one before it is kept for players
still streaming it and deleted when the next one goes live.

Jobs are claimed with ``FOR UPDATE SKIP LOCKED`` under a lease that a running worker renews; a
worker that dies loses its lease and the job is claimed again (a retry).
"""

STATEMENTS = [
    "ALTER TABLE videos ADD COLUMN media_generation text",
    "ALTER TABLE videos ADD COLUMN previous_generation text",
    "ALTER TABLE videos ADD COLUMN failure_reason text",
    "ALTER TABLE videos ADD COLUMN source_info jsonb",
    """
    CREATE TABLE transcode_jobs (
        id bigserial PRIMARY KEY,
        video_id uuid NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
        source_key text NOT NULL,
        state varchar(10) NOT NULL DEFAULT 'queued'
            CHECK (state IN ('queued', 'running', 'done', 'failed', 'superseded')),
        attempts integer NOT NULL DEFAULT 0,
        max_attempts integer NOT NULL CHECK (max_attempts > 0),
        run_after timestamptz NOT NULL DEFAULT now(),
        lease_until timestamptz,
        claim uuid,  -- new at every claim: fences the writes of a worker that lost its job
        worker text,
        last_error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    "CREATE INDEX transcode_jobs_open ON transcode_jobs (id) WHERE state IN ('queued', 'running')",
    "CREATE INDEX transcode_jobs_by_video ON transcode_jobs (video_id, id DESC)",
]

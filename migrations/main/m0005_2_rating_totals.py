"""Per-video rating totals, kept exact by a trigger on ``ratings``.

The trigger runs inside whatever statement changes a rating (the API, a cascade from a deleted
user), and the totals row is locked by its update until commit, so concurrent raters serialise on
it and the count, sum and histogram never drift. ``version`` grows with every change;
``published_version`` is the newest version sent live, so unsent changes can be found and sent.
"""

STATEMENTS = [
    """
    CREATE TABLE rating_totals (
        video_id uuid PRIMARY KEY REFERENCES videos (id) ON DELETE CASCADE,
        count integer NOT NULL DEFAULT 0 CHECK (count >= 0),
        total bigint NOT NULL DEFAULT 0 CHECK (total >= 0),
        histogram integer[] NOT NULL DEFAULT '{0,0,0,0,0}',  -- [1 star, ..., 5 stars]
        version bigint NOT NULL DEFAULT 0,
        published_version bigint NOT NULL DEFAULT 0,
        changed_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    "CREATE INDEX rating_totals_unpublished ON rating_totals (changed_at) WHERE version > published_version",
    """
    CREATE FUNCTION ratings_keep_totals() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        video uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.video_id ELSE NEW.video_id END;
        added smallint := CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE NEW.stars END;
        taken smallint := CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE OLD.stars END;
    BEGIN
        IF TG_OP = 'UPDATE' AND OLD.video_id <> NEW.video_id THEN
            RAISE EXCEPTION 'a rating cannot move to another video';
        END IF;
        IF added IS NOT NULL THEN
            INSERT INTO rating_totals (video_id) VALUES (video) ON CONFLICT DO NOTHING;
        END IF;
        UPDATE rating_totals SET
            count = count + (added IS NOT NULL)::int - (taken IS NOT NULL)::int,
            total = total + COALESCE(added, 0) - COALESCE(taken, 0),
            histogram = ARRAY(
                SELECT histogram[s] + (s IS NOT DISTINCT FROM added)::int
                                    - (s IS NOT DISTINCT FROM taken)::int
                FROM generate_series(1, 5) AS s ORDER BY s
            ),
            version = version + 1,
            changed_at = now()
        WHERE video_id = video;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER ratings_keep_totals AFTER INSERT OR UPDATE OF stars OR DELETE ON ratings
        FOR EACH ROW EXECUTE FUNCTION ratings_keep_totals()
    """,
    # Ratings made before this migration.
    """
    INSERT INTO rating_totals (video_id, count, total, histogram, version, published_version)
    SELECT video_id, count(*), sum(stars),
           ARRAY[count(*) FILTER (WHERE stars = 1), count(*) FILTER (WHERE stars = 2),
                 count(*) FILTER (WHERE stars = 3), count(*) FILTER (WHERE stars = 4),
                 count(*) FILTER (WHERE stars = 5)],
           1, 1
    FROM ratings GROUP BY video_id
    """,
]

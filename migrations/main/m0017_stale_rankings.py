"""Stored rankings that other people's activity has made stale.

Every user who follows someone now has their rankings stored (``app/social/rankings.py``), not
only heavy users. A ranking goes stale when a person the user follows follows someone or rates or
watches a video; ``stale_at`` says since when. A stale ranking of a light user is not served (the
live graph read gives the exact one) and the worker recomputes it; a heavy user's is served until
then, as the live read would be bounded.
"""

STATEMENTS = [
    "ALTER TABLE precomputed_rankings ADD COLUMN stale_at timestamptz",
    "CREATE INDEX precomputed_rankings_stale ON precomputed_rankings (stale_at) WHERE stale_at IS NOT NULL",
]

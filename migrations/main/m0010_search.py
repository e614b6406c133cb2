"""Search in PostgreSQL: full-text for words, trigrams for typos and prefixes, accents folded.

``search_fold`` is the one normalisation both the indexes and the queries use (accents removed,
lower case). ``unaccent`` itself is only STABLE (its dictionary could change), so it is wrapped
in an IMMUTABLE function naming the dictionary, which lets it appear in indexes; changing the
dictionary would mean rebuilding them.

Only what search may return is indexed: public videos that are ready to play. The same
predicate sits in ``app/search/postgres.py``; the planner uses these partial indexes only while
the two agree.
"""

SEARCHABLE_VIDEOS = "visibility = 'public' AND status = 'ready'"

STATEMENTS = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    """
    CREATE FUNCTION search_fold(text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN lower(unaccent('unaccent'::regdictionary, $1))
    """,
    """
    ALTER TABLE videos ADD COLUMN search_words tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple'::regconfig, search_fold(title)), 'A')
        || setweight(to_tsvector('simple'::regconfig, search_fold(description)), 'B')
    ) STORED
    """,
    f"CREATE INDEX videos_search_words ON videos USING gin (search_words) WHERE {SEARCHABLE_VIDEOS}",
    f"""
    CREATE INDEX videos_search_title ON videos USING gin (search_fold(title) gin_trgm_ops)
    WHERE {SEARCHABLE_VIDEOS}
    """,
    "CREATE INDEX users_search_handle ON users USING gin (search_fold(handle) gin_trgm_ops)",
]

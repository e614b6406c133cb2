"""Profiles: a display name, a bio and an avatar per account (personal data, issue 19).

They live here, beside the account, so that export and erasure find them in the one place that
holds personal data; deleting the ``accounts`` row deletes the profile with it. The avatar column
holds only the content digest of the processed images: the images themselves are in media
storage under ``avatars/{account}/{digest}/``.

Search finds people by display name here, with the same folding the main database uses
(``search_fold``: accents removed, lower case; see ``migrations/main/m0010_search.py``), and a
trigram index for typos and a B-tree for prefixes.
"""

STATEMENTS = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    """
    CREATE OR REPLACE FUNCTION search_fold(text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN lower(unaccent('unaccent'::regdictionary, $1))
    """,
    """
    CREATE TABLE profiles (
        account uuid PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
        display_name varchar(50),
        bio varchar(500),
        avatar varchar(64),
        updated_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    """
    CREATE INDEX profiles_search_display_name ON profiles
    USING gin (search_fold(display_name) gin_trgm_ops) WHERE display_name IS NOT NULL
    """,
    # The start of a display name (``LIKE 'q%'``): a range of this B-tree, which stops at the
    # arm's limit, where the trigram index would read every row holding the query's trigrams.
    """
    CREATE INDEX profiles_display_name_prefix ON profiles
    (search_fold(display_name) text_pattern_ops) WHERE display_name IS NOT NULL
    """,
]

"""Search for videos and people (issue 19): one small interface, a PostgreSQL engine behind it."""

"""Tell every process when a user's role, handle or existence changes.

Access tokens carry a role for their whole lifetime; each process keeps the current one in a
small cache (``app/auth/principals.py``). These triggers notify ``mydrtv_users`` with the user's
id whenever a ``users`` row changes role or handle or is deleted, by whatever wrote it (the API,
the CLI, an operator's SQL), and only once that change commits. Every process listens and
forgets the user, so the change applies to the next request everywhere.
"""

STATEMENTS = [
    """
    CREATE FUNCTION notify_user_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify('mydrtv_users', OLD.id::text);
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER users_changed AFTER UPDATE OF role, handle ON users FOR EACH ROW
    WHEN (OLD.role IS DISTINCT FROM NEW.role OR OLD.handle IS DISTINCT FROM NEW.handle)
    EXECUTE FUNCTION notify_user_changed()
    """,
    """
    CREATE TRIGGER users_deleted AFTER DELETE ON users FOR EACH ROW
    EXECUTE FUNCTION notify_user_changed()
    """,
]

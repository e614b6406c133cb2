"""The embedded stack: PostgreSQL and Redis+FalkorDB from wheels, run as children of ``mydrtv dev``.

Each server runs in the foreground as our child, in its own session (so a terminal's Ctrl-C
reaches only us, and we stop things in order) and with a parent-death signal (so even a
``kill -9`` of ``mydrtv dev`` leaves no orphan behind).
"""

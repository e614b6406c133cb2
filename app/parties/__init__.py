"""Watch parties: synchronized playback, shared by every gateway instance.

``service`` keeps the records (REST, memberships) in PostgreSQL; ``state`` is the pure state
machine of the live side, ``store`` keeps it (memory or Redis), ``live`` applies commands and
publishes the result, ``socket`` answers party messages on ``/ws``; ``events`` are the wire types
and ``drift`` the sync policy the server hands its viewers. The reference client that plays by
that policy is ``clients.party``.
"""

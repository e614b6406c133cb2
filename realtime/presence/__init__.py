"""Who is on a channel: in memory for one process, in Redis for many.

Entries carry an expiry that their node renews while the socket lives, so the entries of a
crashed instance vanish on their own.
"""

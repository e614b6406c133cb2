"""The identity store: personal data (email, password hash, birth date, consents) and credentials.

It lives in its own database; nothing outside this package queries it, and the rest of the system
knows a user only by the opaque id and the public handle.
"""

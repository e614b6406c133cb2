"""Accounts: registration, the public user record, roles and ``/me``."""

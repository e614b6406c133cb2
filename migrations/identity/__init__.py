"""Migrations of the identity database: personal data only (see docs/privacy.md)."""

"""Migrations of the main database: everything but personal data."""

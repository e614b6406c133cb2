"""Profiles (issue 19): display name, bio and avatar per user, kept in the identity database,
and the public profile page built around them."""

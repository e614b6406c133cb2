"""Notifications: replies, mentions, follows, friends, party invites, uploads and moderation,
kept per user, grouped, counted, and delivered live on ``user:{id}``."""

"""Moderation: who may post right now (restrictions, slow mode, held words, rates), reports and
their queue, and the audit log of every moderator's action."""

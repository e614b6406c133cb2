"""Star ratings: one per user per video, exact totals in PostgreSQL, coalesced live updates."""

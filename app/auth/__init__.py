"""Authentication: passwords, JWT access tokens, rotating refresh tokens, login rate limits."""

"""Authentication: passwords, current roles of token holders, rotating refresh tokens, login rate limits."""

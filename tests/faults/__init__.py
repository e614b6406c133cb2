"""Fault tests: real servers of their own, killed, frozen and restarted while clients watch."""

"""Helpers that tests/ and bench/ share: real servers, `mydrtv serve` processes, users to act as,
and the fault rig. Nothing here imports tests/ (bench/ must not depend on the test suite)."""

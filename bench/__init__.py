"""Benchmarks of the realtime gateway, each run side by side with its baseline; see BENCHMARKS.md."""

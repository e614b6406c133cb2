"""Benchmarks run at a tiny scale, so that their code keeps working."""

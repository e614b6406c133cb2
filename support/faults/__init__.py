"""The fault rig: real servers of its own, killed, frozen, partitioned and restarted while
clients watch and count (used by tests/faults and bench/faults.py)."""

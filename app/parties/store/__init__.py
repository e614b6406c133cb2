"""Where parties' live state is kept: in memory for one process, in Redis for many."""

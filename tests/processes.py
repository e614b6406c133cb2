"""`mydrtv serve` in child processes (moved to ``support.processes``, shared with bench/)."""

from support.processes import ServerProcess, http_clients, instances, settings_env

__all__ = ["ServerProcess", "http_clients", "instances", "settings_env"]

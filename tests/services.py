"""Real servers for the tests (moved to ``support.services``, shared with bench/)."""

from support.services import (
    DatabaseFactory,
    embedded_neo4j,
    embedded_postgres,
    embedded_redis,
    free_port,
    with_database,
)

__all__ = [
    "DatabaseFactory",
    "embedded_neo4j",
    "embedded_postgres",
    "embedded_redis",
    "free_port",
    "with_database",
]

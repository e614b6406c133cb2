"""Redis clients on a blocking connection pool.

redis-py's default pool refuses the 101st concurrent command with "Too many connections"; a
thousand sockets subscribing at once would see that as errors. A blocking pool makes a burst wait
(up to ``WAIT_SECONDS``) for a free connection instead.
"""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis

POOL_SIZE = 64
WAIT_SECONDS = 20.0


def redis_pool(url: str) -> BlockingConnectionPool:
    return BlockingConnectionPool.from_url(url, max_connections=POOL_SIZE, timeout=WAIT_SECONDS)


def redis_client(url: str) -> Redis:
    return Redis(connection_pool=redis_pool(url))

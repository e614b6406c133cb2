"""Redis clients on a blocking connection pool.

redis-py's default pool refuses the 101st concurrent command with "Too many connections"; a
thousand sockets subscribing at once would see that as errors. A blocking pool makes a burst wait
(up to ``WAIT_SECONDS``) for a free connection instead.

After Redis restarts, every idle pooled connection is dead, and redis-py does not retry by
default: each one failed its next command once. A command that fails on a broken connection is
retried (``RETRIES``, on a fresh connection); while Redis is really down it still fails quickly.
"""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff

POOL_SIZE = 64
WAIT_SECONDS = 20.0
RETRIES = 2


def redis_pool(url: str) -> BlockingConnectionPool:
    retry = Retry(ExponentialBackoff(cap=0.2, base=0.02), RETRIES)
    return BlockingConnectionPool.from_url(url, max_connections=POOL_SIZE, timeout=WAIT_SECONDS, retry=retry)


def redis_client(url: str) -> Redis:
    return Redis(connection_pool=redis_pool(url))

"""Redis clients on a blocking connection pool.

redis-py's default pool refuses the 101st concurrent command with "Too many connections"; a
thousand sockets subscribing at once would see that as errors. A blocking pool makes a burst wait
(up to ``WAIT_SECONDS``) for a free connection instead.

Every command has a deadline (``COMMAND_SECONDS``), so a hung Redis (stopped, partitioned) fails
calls instead of holding them for ever; a pooled connection that Redis dropped (a restart) is
reconnected and the command sent once more, instead of failing the first caller to draw it.
"""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

POOL_SIZE = 64
WAIT_SECONDS = 20.0
COMMAND_SECONDS = 2.0  # our commands take well under a millisecond: this is a hung server
CONNECT_SECONDS = 1.0


def redis_pool(url: str) -> BlockingConnectionPool:
    return BlockingConnectionPool.from_url(
        url,
        max_connections=POOL_SIZE,
        timeout=WAIT_SECONDS,
        socket_timeout=COMMAND_SECONDS,
        socket_connect_timeout=CONNECT_SECONDS,
        retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
    )


def redis_client(url: str) -> Redis:
    return Redis(connection_pool=redis_pool(url))

"""Redis clients on a blocking connection pool, to one Redis or to the primary Sentinel names.

redis-py's default pool refuses the 101st concurrent command with "Too many connections"; a
thousand sockets subscribing at once would see that as errors. A blocking pool makes a burst wait
(up to ``WAIT_SECONDS``) for a free connection instead.

Every command has a deadline (``COMMAND_SECONDS``), so a hung Redis (stopped, partitioned) fails
calls instead of holding them for ever; a pooled connection that Redis dropped (a restart) is
reconnected and the command sent once more, instead of failing the first caller to draw it.

``redis+sentinel://[:password@]host:port[,host:port...]/service[/db][?wait_replicas=1&wait_ms=100]``
names a primary through Sentinel: each new connection asks the sentinels where the primary is, so
after a failover the pool reconnects to the promoted replica without a restart (connections to the
old primary fail once, or answer READONLY, and are dropped). Replication is asynchronous, so the
bus waits (WAIT) for ``wait_replicas`` replicas to hold each publication before the outbox marks
it published; 0 turns that off.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from core.settings import SettingsError

POOL_SIZE = 64
WAIT_SECONDS = 20.0
COMMAND_SECONDS = 2.0  # our commands take well under a millisecond: this is a hung server
CONNECT_SECONDS = 1.0
SENTINEL_SCHEME = "redis+sentinel"
SENTINEL_FORM = "redis+sentinel://[:password@]host:port[,host:port...]/<service>[/<db>]"


class BlockingSentinelPool(SentinelConnectionPool, BlockingConnectionPool):
    """Sentinel's pool (where is the primary now?) that waits for a free connection."""


@dataclass(frozen=True)
class SentinelTarget:
    """What a ``redis+sentinel://`` URL names."""

    sentinels: tuple[tuple[str, int], ...]
    service: str
    db: int = 0
    password: str | None = None
    sentinel_password: str | None = None
    # A publication counts once this many replicas have it (WAIT), waiting at most wait_ms: what
    # a failover promotes then holds everything the outbox marked published.
    wait_replicas: int = 1
    wait_ms: int = 100


def is_sentinel(url: str) -> bool:
    return url.startswith(SENTINEL_SCHEME + "://")


def replicas_to_wait_for(url: str) -> tuple[int, int]:
    """``(replicas, milliseconds)`` a publish waits for: none without Sentinel."""
    if not is_sentinel(url):
        return 0, 0
    target = parse_sentinel_url(url)
    return target.wait_replicas, target.wait_ms


def parse_sentinel_url(url: str) -> SentinelTarget:
    """``redis+sentinel://[:password@]h1:26379,h2:26379/mymaster/0[?sentinel_password=...]``;
    a malformed one is a ``SettingsError`` naming ``MYDRTV_REDIS_URL`` (the CLI exits 2)."""
    try:
        return _parse_sentinel_url(url)
    except ValueError as exc:
        raise SettingsError(f"MYDRTV_REDIS_URL: {exc} ({SENTINEL_FORM})") from None


def _parse_sentinel_url(url: str) -> SentinelTarget:
    parts = urlsplit(url)
    userinfo, _, hosts = parts.netloc.rpartition("@")
    password = unquote(userinfo.partition(":")[2]) or None if userinfo else None
    sentinels: list[tuple[str, int]] = []
    for item in hosts.split(","):
        host, _, port = item.strip().rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"a sentinel is host:port, not {item!r}")
        sentinels.append((host.strip("[]"), int(port)))
    path = [p for p in parts.path.split("/") if p]
    if not path or len(path) > 2 or (len(path) == 2 and not path[1].isdigit()):
        raise ValueError("the path is /<service name>[/<db number>]")
    query = parse_qs(parts.query)
    return SentinelTarget(
        sentinels=tuple(sentinels),
        service=path[0],
        db=int(path[1]) if len(path) == 2 else 0,
        password=password,
        sentinel_password=query.get("sentinel_password", [None])[0],
        wait_replicas=int(query.get("wait_replicas", ["1"])[0]),
        wait_ms=int(query.get("wait_ms", ["100"])[0]),
    )


def redis_pool(
    url: str,
    *,
    max_connections: int = POOL_SIZE,
    retries: int = 1,
    command_seconds: float | None = COMMAND_SECONDS,
) -> BlockingConnectionPool:
    """A blocking pool on ``url`` (``redis://``, ``rediss://``, ``unix://`` or ``redis+sentinel://``);
    ``retries``: how often a command is sent again on a connection Redis dropped;
    ``command_seconds``: None for a pub/sub connection, which waits for messages for ever."""
    options: dict[str, Any] = {
        "max_connections": max_connections,
        "timeout": WAIT_SECONDS,
        "socket_timeout": command_seconds,
        "socket_connect_timeout": CONNECT_SECONDS,
        "retry": Retry(NoBackoff(), retries, supported_errors=(RedisConnectionError,)),
    }
    if not is_sentinel(url):
        return BlockingConnectionPool.from_url(url, **options)
    target = parse_sentinel_url(url)
    sentinel_options: dict[str, Any] = {
        "socket_timeout": COMMAND_SECONDS,
        "socket_connect_timeout": CONNECT_SECONDS,
    }
    if target.sentinel_password:
        sentinel_options["password"] = target.sentinel_password
    manager = Sentinel(list(target.sentinels), sentinel_kwargs=sentinel_options)  # type: ignore[no-untyped-call]
    pool: BlockingSentinelPool = BlockingSentinelPool(  # type: ignore[no-untyped-call]
        target.service, manager, is_master=True, db=target.db, password=target.password, **options
    )
    return pool


def redis_client(url: str) -> Redis:
    return Redis(connection_pool=redis_pool(url))

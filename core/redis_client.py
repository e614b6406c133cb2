"""Redis clients: on a blocking connection pool to one Redis or to the primary Sentinel names,
or a cluster client to a Redis Cluster.

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

``redis+cluster://[[user]:password@]host:port[,host:port...]`` names a Redis Cluster by some of its
nodes (seeds): the client asks them for the slot map and sends each command to the primary that
owns its key's slot. Every multi-key command and script of ours keeps its keys in one slot with a
hash tag (``{channel}``); pub/sub becomes sharded (SPUBLISH/SSUBSCRIBE, see realtime/bus/redis.py).
A cluster client opens connections on demand up to ``CLUSTER_POOL_SIZE`` per node and refuses past
that rather than waiting, so its ceiling is set far above what one process uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias
from urllib.parse import parse_qs, quote, unquote, urlsplit

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster
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
CLUSTER_SCHEME = "redis+cluster"
CLUSTER_FORM = "redis+cluster://[[user]:password@]host:port[,host:port...]"
CLUSTER_POOL_SIZE = 1024  # connections per cluster node, opened on demand (see the docstring)

RedisClient: TypeAlias = Redis | RedisCluster  # what ``redis_client`` gives: one Redis or a cluster


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


@dataclass(frozen=True)
class ClusterTarget:
    """What a ``redis+cluster://`` URL names: seed nodes and the credentials every node takes."""

    nodes: tuple[tuple[str, int], ...]
    username: str | None = None
    password: str | None = None

    @property
    def userinfo(self) -> str:
        """``user:password@`` (quoted) for a URL to the cluster or to one of its nodes; or ""."""
        if self.password is None:
            return ""
        return f"{quote(self.username or '', safe='')}:{quote(self.password, safe='')}@"


def is_sentinel(url: str) -> bool:
    return url.startswith(SENTINEL_SCHEME + "://")


def is_cluster(url: str) -> bool:
    return url.startswith(CLUSTER_SCHEME + "://")


def parse_cluster_url(url: str) -> ClusterTarget:
    """``redis+cluster://[[user]:password@]h1:7000,h2:7001``; a malformed one is a
    ``SettingsError`` naming ``MYDRTV_REDIS_URL`` (the CLI exits 2)."""
    try:
        return _parse_cluster_url(url)
    except ValueError as exc:
        raise SettingsError(f"MYDRTV_REDIS_URL: {exc} ({CLUSTER_FORM})") from None


def _parse_cluster_url(url: str) -> ClusterTarget:
    parts = urlsplit(url)
    userinfo, _, hosts = parts.netloc.rpartition("@")
    username, _, password = userinfo.partition(":")
    if parts.path.strip("/") or parts.query:
        raise ValueError("a cluster has one database and no options: give only the nodes")
    return ClusterTarget(
        nodes=_host_ports(hosts, "a cluster node"),
        username=unquote(username) or None,
        password=unquote(password) or None,
    )


def _host_ports(hosts: str, what: str) -> tuple[tuple[str, int], ...]:
    found: list[tuple[str, int]] = []
    for item in hosts.split(","):
        host, _, port = item.strip().rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"{what} is host:port, not {item!r}")
        found.append((host.strip("[]"), int(port)))
    return tuple(found)


def cluster_node_url(url: str, host: str, port: int) -> str:
    """A ``redis://`` URL to one node of the cluster ``url`` names, with the cluster's
    credentials: for a connection of its own to that node (the bus's sharded pub/sub)."""
    return f"redis://{parse_cluster_url(url).userinfo}{host}:{port}/0"


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
    sentinels = _host_ports(hosts, "a sentinel")
    path = [p for p in parts.path.split("/") if p]
    if not path or len(path) > 2 or (len(path) == 2 and not path[1].isdigit()):
        raise ValueError("the path is /<service name>[/<db number>]")
    query = parse_qs(parts.query)
    return SentinelTarget(
        sentinels=sentinels,
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
    """A blocking pool on ``url`` (``redis://``, ``rediss://``, ``unix://`` or ``redis+sentinel://``;
    a cluster has a pool per node, see ``redis_cluster``);
    ``retries``: how often a command is sent again on a connection Redis dropped;
    ``command_seconds``: None for a pub/sub connection, which waits for messages for ever."""
    options: dict[str, Any] = {
        "max_connections": max_connections,
        "timeout": WAIT_SECONDS,
        "socket_timeout": command_seconds,
        "socket_connect_timeout": CONNECT_SECONDS,
        "retry": Retry(NoBackoff(), retries, supported_errors=(RedisConnectionError,)),
    }
    if is_cluster(url):
        raise SettingsError("MYDRTV_REDIS_URL: a Redis Cluster has no single pool; use redis_client()")
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


def redis_cluster(url: str, *, command_seconds: float | None = COMMAND_SECONDS) -> RedisCluster:
    """A cluster client on the seed nodes ``url`` names. A command that meets a dropped
    connection, a moved slot or a failing-over node is sent again after the slot map is read anew
    (redis-py's cluster retry: 3 more times, with a short jittered back-off)."""
    target = parse_cluster_url(url)
    return RedisCluster(
        startup_nodes=[ClusterNode(host, port) for host, port in target.nodes],
        username=target.username,
        password=target.password,
        max_connections=CLUSTER_POOL_SIZE,
        socket_timeout=command_seconds,
        socket_connect_timeout=CONNECT_SECONDS,
    )


def redis_client(url: str) -> RedisClient:
    """One Redis, Sentinel's primary, or a cluster: whichever ``url`` names."""
    if is_cluster(url):
        return redis_cluster(url)
    return Redis(connection_pool=redis_pool(url))

"""Which backend serves each interface, chosen from the settings' URLs in this one place.

Every pluggable part has a memory (or embedded) backend for one process and a shared one for many;
the URL says which. The app factory and every CLI command build their backends here, so a new
scheme or a new backend is added once and all of them serve it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from limits.aio.storage import MemoryStorage, RedisClusterStorage, RedisStorage
from limits.aio.storage import Storage as LimitsStorage

from app.auth.ratelimit import Fallback
from app.parties.store.base import PartyStore
from app.parties.store.memory import MemoryPartyStore
from app.parties.store.redis import RedisPartyStore
from app.videos.stamps import ChangeStamps
from core.redis_client import (
    COMMAND_SECONDS,
    CONNECT_SECONDS,
    RedisClient,
    is_cluster,
    is_sentinel,
    parse_cluster_url,
    redis_pool,
)
from core.settings import Settings, SettingsError
from graph.base import Graph
from graph.falkordb import FalkorGraph
from graph.neo4j import Neo4jGraph
from media.secure_links import SecureLinks
from media.storage import open_storage
from media.storage.base import Storage
from realtime.bus.base import Bus
from realtime.bus.memory import MemoryBus
from realtime.bus.redis import RedisBus
from realtime.presence.base import Presence
from realtime.presence.memory import MemoryPresence
from realtime.presence.redis import RedisPresence


def change_stamps(settings: Settings, redis: RedisClient | None) -> ChangeStamps:
    """Videos' change stamps: in Redis when there is one (every instance reads them), else here."""
    return ChangeStamps(redis, settings.redis_namespace) if redis is not None else ChangeStamps()


def bus(settings: Settings) -> Bus:
    """Redis when ``redis_url`` is set (many processes), else in-process memory (one process)."""
    if settings.redis_url:
        return RedisBus(
            settings.redis_url,
            settings.redis_namespace,
            settings.bus_history_size,
            settings.bus_history_seconds,
        )
    return MemoryBus(settings.bus_history_size, settings.bus_history_seconds)


def presence(settings: Settings) -> Presence:
    """Who is online: in Redis with ``redis_url`` (every instance sees it), else in this process."""
    if settings.redis_url:
        return RedisPresence(settings.redis_url, settings.redis_namespace, settings.presence_ttl_seconds)
    return MemoryPresence(settings.presence_ttl_seconds)


def party_store(settings: Settings) -> PartyStore:
    """Watch parties' live state: in Redis with ``redis_url``, else in this process."""
    if settings.redis_url:
        return RedisPartyStore(settings.redis_url, settings.redis_namespace, settings.party_state_ttl_seconds)
    return MemoryPartyStore(settings.party_state_ttl_seconds)


def graph(settings: Settings) -> Graph | None:
    """The graph backend ``graph_url`` names: FalkorDB (falkor://, redis://) or Neo4j (bolt://,
    neo4j://); none when it is empty."""
    if not settings.graph_url:
        return None
    if urlsplit(settings.graph_url).scheme.startswith(("bolt", "neo4j")):
        try:
            return Neo4jGraph(settings.graph_url)
        except ValueError as exc:
            raise SettingsError(f"MYDRTV_GRAPH_URL: {exc}") from exc
    return FalkorGraph(settings.graph_url, settings.graph_name)


def storage(settings: Settings) -> Storage | None:
    """The object storage ``storage_url`` names (file:// or s3://); none when it is empty."""
    if not settings.storage_url:
        return None
    accel = settings.media_accel_redirect
    if accel and not (
        settings.storage_url.startswith("file://") and accel.startswith("/") and accel.endswith("/")
    ):
        raise SettingsError(
            "MYDRTV_MEDIA_ACCEL_REDIRECT: an nginx location path like /_media/ (starting and ending with /),"
            " for file:// storage only (with S3, use MYDRTV_MEDIA_REDIRECT)"
        )
    return open_storage(settings.storage_url, part_bytes=settings.s3_part_bytes)


def secure_links(settings: Settings) -> SecureLinks | None:
    """Media links nginx checks itself (``media_secure_link_secret``); none when it is empty."""
    if not settings.media_secure_link_secret:
        return None
    try:
        return SecureLinks(settings.media_secure_link_secret, settings.media_secure_link_seconds)
    except ValueError as exc:
        raise SettingsError(f"MYDRTV_MEDIA_SECURE_LINK_SECRET or _SECONDS: {exc}") from exc


def rate_limits(settings: Settings) -> LimitsStorage:
    """Rate-limit counters: shared in Redis with ``redis_url`` (counted per process while Redis
    fails, see ``Fallback``), else in this process."""
    if not settings.redis_url:
        return MemoryStorage()
    url = settings.redis_url
    prefix = f"{settings.redis_namespace}:limits"
    if is_cluster(url):
        # limits' own cluster storage: each counter is one key, so any slot serves it.
        target = parse_cluster_url(url)
        nodes = ",".join(f"{host}:{port}" for host, port in target.nodes)
        return Fallback(
            RedisClusterStorage(
                f"async+redis+cluster://{target.userinfo}{nodes}",
                implementation="redispy",
                key_prefix=prefix,
                socket_timeout=COMMAND_SECONDS,
                socket_connect_timeout=CONNECT_SECONDS,
            )
        )
    # The pool carries the address (Sentinel's primary or one Redis); limits only reads the scheme.
    scheme_only = "async+redis://sentinel:26379" if is_sentinel(url) else url
    shared = RedisStorage(
        scheme_only if scheme_only.startswith("async+") else "async+" + scheme_only,
        implementation="redispy",
        key_prefix=prefix,
        connection_pool=redis_pool(url),  # type: ignore[arg-type]
    )
    return Fallback(shared)

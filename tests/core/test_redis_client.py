"""The ``redis+sentinel://`` and ``redis+cluster://`` forms of ``MYDRTV_REDIS_URL``."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from core.redis_client import (
    BlockingSentinelPool,
    cluster_node_url,
    parse_cluster_url,
    parse_sentinel_url,
    redis_client,
    redis_pool,
    replicas_to_wait_for,
)
from core.settings import SettingsError


def test_a_sentinel_url_names_sentinels_service_db_and_passwords() -> None:
    target = parse_sentinel_url(
        "redis+sentinel://:secret@10.0.0.1:26379,[::1]:26380/mymaster/2?sentinel_password=s&wait_replicas=2"
    )
    assert target.sentinels == (("10.0.0.1", 26379), ("::1", 26380))
    assert (target.service, target.db, target.password, target.sentinel_password) == (
        "mymaster",
        2,
        "secret",
        "s",
    )
    assert (target.wait_replicas, target.wait_ms) == (2, 100)


@pytest.mark.parametrize(
    "url",
    [
        "redis+sentinel://h:26379/",
        "redis+sentinel://h/mymaster",
        "redis+sentinel://h:1/m/x",
        "redis+sentinel://h:1/m?wait_replicas=many",
    ],
)
def test_a_malformed_sentinel_url_is_a_settings_error_naming_the_variable(url: str) -> None:
    with pytest.raises(SettingsError, match="MYDRTV_REDIS_URL"):
        parse_sentinel_url(url)


def test_a_sentinel_pool_blocks_and_only_sentinel_waits_for_replicas() -> None:
    pool = redis_pool("redis+sentinel://127.0.0.1:26379/mymaster")
    assert isinstance(pool, BlockingSentinelPool)
    assert pool.service_name == "mymaster"
    assert replicas_to_wait_for("redis+sentinel://127.0.0.1:26379/m?wait_replicas=0") == (0, 100)
    assert replicas_to_wait_for("redis://127.0.0.1:6379/0") == (0, 0)


def test_a_cluster_url_names_its_seed_nodes_and_credentials() -> None:
    target = parse_cluster_url("redis+cluster://app:s%40cret@10.0.0.1:7000,[::1]:7001, redis-2:7002")
    assert target.nodes == (("10.0.0.1", 7000), ("::1", 7001), ("redis-2", 7002))
    assert (target.username, target.password) == ("app", "s@cret")
    assert target.userinfo == "app:s%40cret@"
    assert cluster_node_url("redis+cluster://:pw@h:7000", "10.0.0.9", 7005) == "redis://:pw@10.0.0.9:7005/0"
    assert parse_cluster_url("redis+cluster://h:7000").userinfo == ""


@pytest.mark.parametrize(
    "url",
    [
        "redis+cluster://",
        "redis+cluster://h",
        "redis+cluster://h:7000,h",
        "redis+cluster://h:70000",
        "redis+cluster://h:7000/1",
        "redis+cluster://h:7000?timeout=1",
    ],
)
def test_a_malformed_cluster_url_is_a_settings_error_naming_the_variable(url: str) -> None:
    with pytest.raises(SettingsError, match=r"MYDRTV_REDIS_URL.*redis\+cluster://"):
        parse_cluster_url(url)
    with pytest.raises(SettingsError, match="MYDRTV_REDIS_URL"):
        redis_client(url)


def test_a_cluster_url_makes_a_cluster_client_and_waits_for_no_replicas() -> None:
    client = redis_client("redis+cluster://127.0.0.1:7000,127.0.0.1:7001")
    assert isinstance(client, RedisCluster)
    assert [(node.host, node.port) for node in client.startup_nodes] == [
        ("127.0.0.1", 7000),
        ("127.0.0.1", 7001),
    ]
    assert replicas_to_wait_for("redis+cluster://127.0.0.1:7000") == (0, 0)
    with pytest.raises(SettingsError, match="no single pool"):
        redis_pool("redis+cluster://127.0.0.1:7000")
    # The single-Redis and Sentinel forms are untouched.
    assert isinstance(redis_client("redis://127.0.0.1:6379/0"), Redis)

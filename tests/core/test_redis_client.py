"""The ``redis+sentinel://`` form of ``MYDRTV_REDIS_URL``."""

from __future__ import annotations

import pytest

from core.redis_client import BlockingSentinelPool, parse_sentinel_url, redis_pool, replicas_to_wait_for
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

"""One suite, every rate-limit storage ``server.backends.rate_limits`` builds: in this process,
on one Redis, on a Redis Cluster (limits' cluster storage: counters spread over the shards)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from limits.aio.storage import MemoryStorage, RedisClusterStorage, Storage

from app.auth.ratelimit import Fallback, LoginLimiter
from core.errors import TooManyRequests
from core.settings import Settings
from server import backends
from tests.redis_backends import REDIS_KINDS, redis_url_of

Limiters = Callable[[], LoginLimiter]


@pytest.fixture(params=["memory", *REDIS_KINDS])
def limiters(request: pytest.FixtureRequest) -> Iterator[tuple[str, Limiters]]:
    """Makes login limiters (3 attempts a minute per account) as separate instances would; a
    Redis one must never have fallen back to counting in the process."""
    url = "" if request.param == "memory" else redis_url_of(request.param, request)
    settings = Settings(redis_url=url, redis_namespace=f"test-{uuid.uuid4().hex[:8]}")
    storages: list[Storage] = []

    def make() -> LoginLimiter:
        storages.append(backends.rate_limits(settings))
        return LoginLimiter(storages[-1], "3/minute", "1000/minute")

    yield str(request.param), make
    assert not any(isinstance(storage, Fallback) and storage.degraded for storage in storages)


async def test_a_spent_limit_refuses_with_a_retry_after(limiters: tuple[str, Limiters]) -> None:
    _, make = limiters
    limiter = make()
    for _ in range(3):
        await limiter.attempt(account="ada@example.com", address="10.0.0.1")
    with pytest.raises(TooManyRequests) as refused:
        await limiter.attempt(account="ada@example.com", address="10.0.0.1")
    assert 1 <= refused.value.retry_after <= 60


async def test_every_account_has_a_budget_of_its_own(limiters: tuple[str, Limiters]) -> None:
    """Many accounts: on a cluster their counters land on every shard, each counted apart."""
    _, make = limiters
    limiter = make()
    accounts = [f"user{n}@example.com" for n in range(30)]
    for _ in range(3):
        for account in accounts:
            await limiter.attempt(account=account, address="10.0.0.2")
    for account in accounts:
        with pytest.raises(TooManyRequests):
            await limiter.attempt(account=account, address="10.0.0.2")


async def test_redis_counters_are_shared_between_instances(limiters: tuple[str, Limiters]) -> None:
    kind, make = limiters
    first, second = make(), make()
    await first.attempt(account="bob@example.com", address="10.0.0.3")
    await first.attempt(account="bob@example.com", address="10.0.0.3")
    await second.attempt(account="bob@example.com", address="10.0.0.3")
    if kind == "memory":  # each process counts on its own
        await second.attempt(account="bob@example.com", address="10.0.0.3")
        return
    with pytest.raises(TooManyRequests):
        await second.attempt(account="bob@example.com", address="10.0.0.3")


def test_a_cluster_url_gets_limits_cluster_storage() -> None:
    assert isinstance(backends.rate_limits(Settings(redis_url="")), MemoryStorage)
    shared = backends.rate_limits(Settings(redis_url="redis+cluster://:pw@127.0.0.1:7000,127.0.0.1:7001"))
    assert isinstance(shared, Fallback)
    assert isinstance(shared._shared, RedisClusterStorage)


class _BrokenClient(MemoryStorage):
    """A shared storage whose client fails the way redis-py's asyncio cluster client did under a
    burst of new connections (an AttributeError from inside the client, not a RedisError)."""

    async def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        raise AttributeError("'NoneType' object has no attribute 'writelines'")


async def test_any_failure_of_the_shared_storage_counts_in_the_process() -> None:
    shared = Fallback(_BrokenClient())  # type: ignore[arg-type]
    assert await shared.incr("ws:someone", 60) == 1
    assert await shared.incr("ws:someone", 60) == 2
    assert shared.degraded

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from app.auth import ratelimit
from app.auth.ratelimit import LoginLimiter
from core.errors import TooManyRequests
from core.settings import Settings
from server import backends
from support.faults.servers import RedisServer
from tests.redis_backends import REDIS_KINDS, redis_url_of
from tests.users import register, unique_handle


def _attempt(email: str, password: str = "wrong-password-here") -> dict[str, str]:
    return {"grant_type": "password", "username": email, "password": password}


@pytest.mark.parametrize("store", ["memory", *REDIS_KINDS])
async def test_per_account_limit_answers_429_with_retry_after(
    app_client: Callable[..., AsyncTestClient[Any]], request: pytest.FixtureRequest, store: str
) -> None:
    """The whole app on each store: with ``redis-cluster`` every Redis user runs on the cluster."""
    redis_url = "" if store == "memory" else redis_url_of(store, request)
    async with app_client(redis_url=redis_url, login_limit_per_account="3/minute") as client:
        user = await register(client)
        for _ in range(3):
            assert (await client.post("/auth/token", data=_attempt(user["email"]))).status_code == 401
        # Even the right password is refused once the limit is spent.
        limited = await client.post("/auth/token", data=_attempt(user["email"], user["password"]))
        assert limited.status_code == 429
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        assert limited.json()["error"] == "rate_limited"
        assert limited.json()["details"]["retry_after"] == int(limited.headers["retry-after"])
        # Another account from the same address is not affected by that account's limit.
        other = await register(client)
        assert (
            await client.post("/auth/token", data=_attempt(other["email"], other["password"]))
        ).status_code == 200


async def test_per_address_limit_spans_accounts(
    app_client: Callable[..., AsyncTestClient[Any]],
) -> None:
    async with app_client(redis_url="", login_limit_per_address="4/minute") as client:
        for _ in range(4):
            email = f"{unique_handle()}@example.com"
            assert (await client.post("/auth/token", data=_attempt(email))).status_code == 401
        limited = await client.post("/auth/token", data=_attempt(f"{unique_handle()}@example.com"))
        assert limited.status_code == 429
        assert "address" in limited.json()["message"]


async def test_redis_limits_are_shared_between_instances(
    app_client: Callable[..., AsyncTestClient[Any]],
) -> None:
    """Counters live in Redis: a second app instance sees the attempts made on the first."""
    async with app_client(login_limit_per_account="3/minute") as first:
        user = await register(first)
        assert (await first.post("/auth/token", data=_attempt(user["email"]))).status_code == 401
        assert (await first.post("/auth/token", data=_attempt(user["email"]))).status_code == 401
    async with app_client(login_limit_per_account="3/minute") as second:
        assert (await second.post("/auth/token", data=_attempt(user["email"]))).status_code == 401
        assert (await second.post("/auth/token", data=_attempt(user["email"]))).status_code == 429


async def test_the_account_limit_counts_every_spelling_of_the_email_as_one(
    app_client: Callable[..., AsyncTestClient[Any]],
) -> None:
    """Login trims and lowercases the username, so the limit must too: ``" victim@example.com"``
    is the same account, not a fresh budget of guesses."""
    async with app_client(redis_url="", login_limit_per_account="3/minute") as client:
        user = await register(client)
        email = user["email"]
        for spelling in (email, f" {email}", f"{email.upper()}\t"):
            assert (await client.post("/auth/token", data=_attempt(spelling))).status_code == 401
        limited = await client.post("/auth/token", data=_attempt(f"  {email} ", user["password"]))
        assert limited.status_code == 429, limited.text


async def test_registrations_are_limited_per_address(
    app_client: Callable[..., AsyncTestClient[Any]], settings: Settings
) -> None:
    namespace = settings.redis_namespace + "-register"
    async with app_client(redis_namespace=namespace, register_limit_per_address="2/minute") as client:
        await register(client)
        await register(client)
        handle = unique_handle()
        body = {
            "email": f"{handle}@example.com",
            "password": "correct horse battery staple",
            "handle": handle,
        }
        limited = await client.post("/accounts", json=body)
        assert limited.status_code == 429, limited.text
        assert limited.json()["error"] == "rate_limited"
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        assert limited.json()["details"]["retry_after"] == int(limited.headers["retry-after"])
        assert (await client.get(f"/users/{handle}")).status_code == 404  # refused before any work


async def test_without_redis_limits_are_counted_per_process_and_logged_once(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Redis outage must not fail requests that limits guard: each process counts on its own
    meanwhile (one warning), and the shared counters take over again once Redis answers."""
    monkeypatch.setattr(ratelimit, "RETRY_SHARED_SECONDS", 0.0)  # try Redis again at every call
    redis = RedisServer()
    await redis.start()
    try:
        limiter = LoginLimiter(
            backends.rate_limits(Settings(redis_url=redis.url, redis_namespace="fallback")),
            "2/minute",
            "1000/minute",
        )
        await limiter.attempt(account="ada@example.com", address="127.0.0.1")
        await redis.kill()
        with caplog.at_level(logging.WARNING, logger="mydrtv.ratelimit"):
            await limiter.attempt(account="ada@example.com", address="127.0.0.1")
            await limiter.attempt(account="ada@example.com", address="127.0.0.1")
            with pytest.raises(TooManyRequests):  # the process's own count: 2 in its window
                await limiter.attempt(account="ada@example.com", address="127.0.0.1")
        assert [r.message for r in caplog.records].count(caplog.records[0].message) == 1
        assert "per process" in caplog.records[0].message
        await redis.start()  # empty: the shared count starts again
        await limiter.attempt(account="ada@example.com", address="127.0.0.1")
        await limiter.attempt(account="ada@example.com", address="127.0.0.1")
        with pytest.raises(TooManyRequests):
            await limiter.attempt(account="ada@example.com", address="127.0.0.1")
    finally:
        await redis.stop()


async def test_a_hung_redis_costs_one_request_its_deadline_not_every_request() -> None:
    redis = RedisServer()
    await redis.start()
    try:
        limiter = LoginLimiter(
            backends.rate_limits(Settings(redis_url=redis.url, redis_namespace="hung")),
            "100/minute",
            "1000/minute",
        )
        await limiter.attempt(account="ada@example.com", address="127.0.0.1")
        redis.freeze()
        started = time.monotonic()
        await limiter.attempt(account="ada@example.com", address="127.0.0.1")  # waits, then local
        first = time.monotonic() - started
        for _ in range(5):
            await limiter.attempt(account="ada@example.com", address="127.0.0.1")
        rest = time.monotonic() - started - first
        assert first >= 1.0 and rest < 0.5, (first, rest)
    finally:
        redis.thaw()
        await redis.stop()

"""Login rate limits per account and per client address, and the registration limit per
address (the ``limits`` library).

Every attempt counts, successful or not, so a burst of guesses is cut off no matter how the
guesses fare. With Redis configured the counters are shared by every API instance; while Redis is
away each process counts on its own (``Fallback``), so an outage costs precision, not requests.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, MovingWindowSupport, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

from core.errors import TooManyRequests

log = logging.getLogger("mydrtv.ratelimit")
T = TypeVar("T")
RETRY_SHARED_SECONDS = 1.0


class Fallback(Storage, MovingWindowSupport):
    """Counters in Redis, or in this process while Redis fails: a limit per process rather than
    a request that fails (a comment that can commit must not answer 500 for its rate limit).
    Any failure of the shared storage counts, not only Redis's errors: redis-py's asyncio cluster
    client (limits' cluster storage) can fail a command with an AttributeError when a burst of new
    connections races on one node, and a rate limit must not close a websocket for that.
    Logged once when it degrades and once when it is shared again."""

    STORAGE_SCHEME = None

    def __init__(self, shared: RedisStorage) -> None:
        super().__init__()
        self._shared = shared
        self._local = MemoryStorage()
        self.degraded = False
        self._local_until = 0.0  # after a failure, count locally until then before trying Redis

    @property
    def base_exceptions(self) -> tuple[type[Exception], ...]:
        return (StorageError,)

    async def _either(self, shared: Callable[[], Awaitable[T]], local: Callable[[], Awaitable[T]]) -> T:
        if time.monotonic() < self._local_until:  # a hung Redis must not cost every request
            return await local()
        try:
            result = await shared()
        except Exception as exc:  # see the class docstring: whatever the shared storage raises
            self._local_until = time.monotonic() + RETRY_SHARED_SECONDS
            if not self.degraded:
                self.degraded = True
                log.warning("rate limits are counted per process: Redis failed (%r)", exc)
            return await local()
        if self.degraded:
            self.degraded = False
            log.warning("rate limits are shared through Redis again")
        return result

    async def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        return await self._either(
            lambda: self._shared.incr(key, expiry, amount), lambda: self._local.incr(key, expiry, amount)
        )

    async def get(self, key: str) -> int:
        return await self._either(lambda: self._shared.get(key), lambda: self._local.get(key))

    async def get_expiry(self, key: str) -> float:
        return await self._either(lambda: self._shared.get_expiry(key), lambda: self._local.get_expiry(key))

    async def check(self) -> bool:
        return await self._shared.check()

    async def reset(self) -> int | None:
        await self._local.reset()
        return await self._shared.reset()

    async def clear(self, key: str) -> None:
        await self._local.clear(key)
        await self._shared.clear(key)

    async def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        return await self._either(
            lambda: self._shared.acquire_entry(key, limit, expiry, amount),
            lambda: self._local.acquire_entry(key, limit, expiry, amount),
        )

    async def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        return await self._either(
            lambda: self._shared.get_moving_window(key, limit, expiry),
            lambda: self._local.get_moving_window(key, limit, expiry),
        )


async def _hit(limiter: MovingWindowRateLimiter, rule: RateLimitItem, message: str, *key: str) -> None:
    if not await limiter.hit(rule, *key):
        stats = await limiter.get_window_stats(rule, *key)
        raise TooManyRequests(message, retry_after=stats.reset_time - time.time())


class LoginLimiter:
    def __init__(self, storage: Storage, per_account: str, per_address: str) -> None:
        self._limiter = MovingWindowRateLimiter(storage)
        self._rules: list[tuple[str, RateLimitItem]] = [
            ("account", parse(per_account)),
            ("address", parse(per_address)),
        ]

    async def attempt(self, *, account: str, address: str) -> None:
        """Count one login attempt; raises ``TooManyRequests`` once either limit is spent.

        ``account`` must be the email as login looks it up (``normalise_email``): any other
        spelling of it would count against a budget of its own."""
        keys = {"account": account, "address": address}
        for scope, rule in self._rules:
            message = f"too many login attempts for this {scope}; try again later"
            await _hit(self._limiter, rule, message, "login", scope, keys[scope])


class RegistrationLimiter:
    """Registrations per client address: each costs an argon2 hash and an account."""

    def __init__(self, storage: Storage, per_address: str) -> None:
        self._limiter = MovingWindowRateLimiter(storage)
        self._rule = parse(per_address)

    async def attempt(self, address: str) -> None:
        message = "too many registrations from this address; try again later"
        await _hit(self._limiter, self._rule, message, "register", "address", address)

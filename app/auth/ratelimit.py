"""Login rate limits per account and per client address, and the registration limit per
address (the ``limits`` library).

Every attempt counts, successful or not, so a burst of guesses is cut off no matter how the
guesses fare. With Redis configured the counters are shared by every API instance.
"""

from __future__ import annotations

import time

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from app.errors import TooManyRequests
from app.redis_client import redis_pool


def storage_for(redis_url: str, namespace: str) -> Storage:
    if not redis_url:
        return MemoryStorage()
    uri = "async+" + redis_url if not redis_url.startswith("async+") else redis_url
    return RedisStorage(
        uri,
        implementation="redispy",
        key_prefix=f"{namespace}:limits",
        connection_pool=redis_pool(redis_url),  # type: ignore[arg-type]
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

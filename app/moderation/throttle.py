"""Per-user rates of comments, ratings and reports (the ``limits`` library), ending in 429.

With Redis the counters are shared by every instance, so spreading requests over instances does
not multiply anyone's allowance. Moving windows, so slow mode's "one per N seconds" is exact.
"""

from __future__ import annotations

import time

from limits import RateLimitItem, RateLimitItemPerSecond, parse
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter

from core.errors import TooManyRequests


class Throttle:
    def __init__(self, storage: Storage) -> None:
        self._limiter = MovingWindowRateLimiter(storage)

    async def hit(self, rule: RateLimitItem, *identifiers: str, code: str, message: str) -> None:
        """Count one action; past the rule, 429 with the seconds until the next one is allowed."""
        if not await self._limiter.hit(rule, *identifiers):
            stats = await self._limiter.get_window_stats(rule, *identifiers)
            raise TooManyRequests(message, code=code, retry_after=stats.reset_time - time.time())


def rule(text: str) -> RateLimitItem:
    """A rate such as ``10/minute`` from settings."""
    return parse(text)


def one_per(seconds: int) -> RateLimitItem:
    return RateLimitItemPerSecond(1, seconds)

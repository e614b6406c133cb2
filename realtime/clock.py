"""Server time, and the client's estimate of it from NTP-style four-timestamp exchanges.

A client sends ``time_sync`` stamped with its clock (t1); the server stamps when it received the
message (t2) and when it answered (t3); the client stamps the answer's arrival (t4). Since neither
leg can take negative time, each exchange bounds the offset (server clock minus client clock):

    t3 - t4  <=  offset  <=  t2 - t1

and its midpoint is NTP's estimate ((t2 - t1) + (t3 - t4)) / 2, off by half the difference of
the two legs' delays. Jitter makes that difference large on most exchanges, so the filter keeps a
window of exchanges and uses the tightest ones: by default the intersection of all their bounds
(whose ends come from the fastest request and the fastest answer, even when those are different
exchanges); ``bounds=False`` uses only the exchange of least round-trip delay, as Jellyfin SyncPlay
does over 8 exchanges.
"""

from __future__ import annotations

import time
from collections import deque

import msgspec


def server_now_ms() -> float:
    """The server's clock: wall time in milliseconds. Every instance must keep it NTP-disciplined;
    what instances disagree by adds directly to the viewers' error across them."""
    return time.time_ns() / 1_000_000


class Sample(msgspec.Struct, frozen=True):
    client_sent: float  # t1, client clock
    server_received: float  # t2, server clock
    server_sent: float  # t3, server clock
    client_received: float  # t4, client clock

    @property
    def delay(self) -> float:
        """Round trip minus the server's own time."""
        return (self.client_received - self.client_sent) - (self.server_sent - self.server_received)

    @property
    def offset(self) -> float:
        return ((self.server_received - self.client_sent) + (self.server_sent - self.client_received)) / 2

    @property
    def upper(self) -> float:
        return self.server_received - self.client_sent

    @property
    def lower(self) -> float:
        return self.server_sent - self.client_received


class ClockFilter:
    """The client's estimate of ``server clock - client clock``, from its latest exchanges.

    Old exchanges leave the window after ``max_age_ms``: a client clock that runs slightly fast or
    slow shifts their bounds, and a reconnect to another instance calls for ``reset``."""

    def __init__(self, window: int = 32, max_age_ms: float = 30_000, *, bounds: bool = True) -> None:
        self.samples: deque[Sample] = deque(maxlen=window)
        self.max_age_ms = max_age_ms
        self.bounds = bounds

    def add(self, sample: Sample) -> None:
        if sample.delay < 0:
            return  # a clock stepped during the exchange: it bounds nothing
        self.samples.append(sample)
        while self.samples and sample.client_received - self.samples[0].client_received > self.max_age_ms:
            self.samples.popleft()

    def reset(self) -> None:
        self.samples.clear()

    @property
    def offset(self) -> float | None:
        """Milliseconds to add to the client clock to read the server clock; None before any
        exchange."""
        if not self.samples:
            return None
        if self.bounds:
            low = max(s.lower for s in self.samples)
            high = min(s.upper for s in self.samples)
            if low <= high:
                return (low + high) / 2
            # Bounds that contradict each other: a clock was stepped. Trust the fastest exchange.
        return min(self.samples, key=lambda s: s.delay).offset

    @property
    def error_ms(self) -> float | None:
        """How far the estimate can be off at most (half the width of the bound it came from)."""
        if not self.samples:
            return None
        low = max(s.lower for s in self.samples)
        high = min(s.upper for s in self.samples)
        if self.bounds and low <= high:
            return (high - low) / 2
        return min(s.delay for s in self.samples) / 2

    def round_trip_ms(self, quantile: float = 0.9) -> float | None:
        """A high quantile of recent round trips: what the server should allow for this client."""
        if not self.samples:
            return None
        delays = sorted(s.delay for s in self.samples)
        return delays[min(len(delays) - 1, int(quantile * len(delays)))]

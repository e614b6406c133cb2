"""What every presence backend does.

Entries belong to the node (process) that wrote them. A node proves it is alive with one
``heartbeat`` every few seconds, whatever its number of connections; when a node stops (a crash,
kill -9) its heartbeat lapses and all its entries vanish together, within ``ttl_seconds``.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod

from realtime.protocol import User


class Presence(ABC):
    def __init__(self, ttl_seconds: float) -> None:
        self.ttl_seconds = ttl_seconds
        self.node = uuid.uuid4().hex

    @abstractmethod
    async def heartbeat(self) -> None:
        """Keep this node's entries alive for ``ttl_seconds`` more (a non-positive ttl: end now)."""

    @abstractmethod
    async def join(self, channel: str, client: str, user: User | None) -> None:
        """Add one connection's entry on a channel."""

    @abstractmethod
    async def leave(self, channel: str, client: str) -> None: ...

    @abstractmethod
    async def members(self, channel: str) -> dict[str, User | None]:
        """Entries of live nodes by connection id; ``None`` for anonymous connections."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""

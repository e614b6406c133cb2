"""What every presence backend does."""

from __future__ import annotations

from abc import ABC, abstractmethod

from realtime.protocol import User


class Presence(ABC):
    def __init__(self, ttl_seconds: float) -> None:
        self.ttl_seconds = ttl_seconds

    @abstractmethod
    async def join(self, channel: str, client: str, user: User | None) -> None:
        """Add (or renew) one connection's entry on a channel."""

    @abstractmethod
    async def leave(self, channel: str, client: str) -> None: ...

    @abstractmethod
    async def members(self, channel: str) -> dict[str, User | None]:
        """Live entries by connection id; ``None`` for anonymous connections."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""

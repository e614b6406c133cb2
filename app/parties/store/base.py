"""What every party store does: keep each party's live state, changed by compare-and-set.

Every instance of the gateway reads and writes the same state, so two commands racing on two
instances must not both win: ``save`` stores a state only if the stored one is the revision it
was computed from, and the loser computes again from the winner's state.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable

from app.parties.state import Party


class PartyStore(ABC):
    def __init__(self, ttl_seconds: float) -> None:
        self.ttl_seconds = ttl_seconds  # a party untouched this long is forgotten

    @abstractmethod
    async def load(self, party_id: str) -> Party | None: ...

    @abstractmethod
    async def load_many(self, party_ids: Iterable[str]) -> dict[str, Party]:
        """The stored parties among ``party_ids``."""

    @abstractmethod
    async def save(self, party: Party, previous: int) -> bool:
        """Store ``party`` if the stored state is at revision ``previous`` (0: nothing is stored);
        false if another change came first."""

    @abstractmethod
    async def delete(self, party_id: str) -> None: ...

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""

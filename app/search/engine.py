"""The interface every search engine offers; the API sees only this.

PostgreSQL (``app/search/postgres.py``) is the engine today. A dedicated one (OpenSearch,
Meilisearch) would be one new module implementing this Protocol, chosen in the app factory; the
rules of what may be found (public, playable, not across a block) stay the engine's duty.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from app.search.schemas import PeoplePage
from app.search.terms import Terms
from app.videos.schemas import VideoPage
from core.tokens import Principal


@runtime_checkable  # Litestar checks a dependency against its declared type with isinstance
class SearchEngine(Protocol):
    async def videos(
        self, terms: Terms, viewer: Principal | None, cursor: str | None, limit: int
    ) -> VideoPage:
        """Public, playable videos matching ``terms`` by title or description, the most relevant
        first and, among equals, the most popular; none whose owner and ``viewer`` are blocked
        either way."""
        ...

    async def people(
        self, terms: Terms, viewer: Principal | None, cursor: str | None, limit: int
    ) -> PeoplePage:
        """People whose handle or display name matches ``terms``, the most relevant first, then
        the most followed, each with their display name and avatar; none who blocked ``viewer``
        or whom ``viewer`` blocked."""
        ...

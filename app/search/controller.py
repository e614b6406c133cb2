"""REST endpoints of search: ``GET /search/videos`` and ``GET /search/people``."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from app.search.engine import SearchEngine
from app.search.schemas import PeoplePage
from app.search.terms import MAX_CHARS, parse
from app.videos.schemas import VideoPage
from core.pagination import Cursor, Limit
from core.tokens import Principal

Query = Annotated[
    str,
    QueryParameter(
        description=(
            f"what to look for: words, the start of a word, or a word with a typo (1-{MAX_CHARS} characters)"
        )
    ),
]


class SearchController(Controller):
    path = "/search"
    tags = ("search",)

    @get("/videos")
    async def videos(
        self,
        q: Query,
        viewer: NamedDependency[Principal | None],
        search: NamedDependency[SearchEngine],
        cursor: Cursor = None,
        limit: Limit = 20,
    ) -> VideoPage:
        """Public, playable videos by title and description, most relevant first, then most rated.
        400 for an empty query, one over the length cap, or one with control characters."""
        return await search.videos(parse(q), viewer, cursor, limit)

    @get("/people")
    async def people(
        self,
        q: Query,
        viewer: NamedDependency[Principal | None],
        search: NamedDependency[SearchEngine],
        cursor: Cursor = None,
        limit: Limit = 20,
    ) -> PeoplePage:
        """People by handle or display name, most relevant first, then most followed, with their
        display name and avatar; never someone who blocked you or whom you blocked. 400 as for
        videos."""
        return await search.people(parse(q), viewer, cursor, limit)

"""REST endpoints of the social graph: follows, lists, blocks, mutes, suggestions, watches."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from app.social.recommendations import VideoRecommendations
from app.social.relations import OWN_LISTS, PUBLIC_LISTS, SocialService
from app.social.schemas import ConnectionPage, RecommendationPage, Relationship, SuggestionPage, Watch
from app.social.suggestions import PeopleSuggestions
from app.social.watches import WatchService
from core.pagination import Cursor, Limit
from core.tokens import Principal

Few = Annotated[int, QueryParameter(ge=1, le=50, description="how many (1-50)")]


def _list_of(request: Request[Any, Any, Any]) -> str:
    """The list a route of ``connections`` or ``own_connections`` serves: the last segment of its path
    (``/users/{user_id}/friends`` serves ``friends``)."""
    return str(request.scope["path_template"]).rpartition("/")[2]


class SocialController(Controller):
    tags = ("social",)

    @put("/me/following/{user_id:uuid}", status_code=204)
    async def follow(
        self,
        user_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal],
        social: NamedDependency[SocialService],
    ) -> None:
        """Follow a user (again: no change). 400 yourself, 404 unknown, 403 if they blocked you,
        409 if you blocked them."""
        await social.follow(principal, user_id)

    @delete("/me/following/{user_id:uuid}", status_code=204)
    async def unfollow(
        self,
        user_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal],
        social: NamedDependency[SocialService],
    ) -> None:
        """Stop following a user (not following them: no change)."""
        await social.unfollow(principal, user_id)

    @get([f"/users/{{user_id:uuid}}/{kind}" for kind in PUBLIC_LISTS])
    async def connections(
        self,
        request: Request[Any, Any, Any],
        user_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal | None],
        social: NamedDependency[SocialService],
        cursor: Cursor = None,
        limit: Limit = 20,
    ) -> ConnectionPage:
        """The list the path names, newest first: who follows the user (``followers``), whom the
        user follows (``following``), or the user's friends (``friends``: mutual follows, newest
        friendship first)."""
        return await social.people(_list_of(request), user_id, viewer, cursor, limit)

    @get("/me/relationships/{user_id:uuid}")
    async def relationship(
        self,
        user_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal],
        social: NamedDependency[SocialService],
    ) -> Relationship:
        """Whether you follow, are followed by, blocked or muted a user."""
        return await social.relationship(principal, user_id)

    @put("/me/blocks/{user_id:uuid}", status_code=204)
    async def block(
        self,
        user_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal],
        social: NamedDependency[SocialService],
    ) -> None:
        """Block a user: follows between you end both ways, and each is hidden from the other."""
        await social.block(principal, user_id)

    @delete("/me/blocks/{user_id:uuid}", status_code=204)
    async def unblock(
        self,
        user_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal],
        social: NamedDependency[SocialService],
    ) -> None:
        """Lift a block; the follows it ended stay ended."""
        await social.unblock(principal, user_id)

    @put("/me/mutes/{user_id:uuid}", status_code=204)
    async def mute(
        self,
        user_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal],
        social: NamedDependency[SocialService],
    ) -> None:
        """Mute a user: their activity leaves your feed, suggestions and recommendations."""
        await social.mute(principal, user_id)

    @delete("/me/mutes/{user_id:uuid}", status_code=204)
    async def unmute(
        self,
        user_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal],
        social: NamedDependency[SocialService],
    ) -> None:
        await social.unmute(principal, user_id)

    @get([f"/me/{kind}" for kind in OWN_LISTS])
    async def own_connections(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        social: NamedDependency[SocialService],
        cursor: Cursor = None,
        limit: Limit = 20,
    ) -> ConnectionPage:
        """The list the path names, newest first: whom you blocked (``blocks``) or muted
        (``mutes``)."""
        return await social.people(_list_of(request), principal.id, principal, cursor, limit)


class DiscoveryController(Controller):
    tags = ("discovery",)

    @get("/me/suggestions/people")
    async def people(
        self,
        principal: NamedDependency[Principal],
        suggestions: NamedDependency[PeopleSuggestions],
        limit: Few = 10,
    ) -> SuggestionPage:
        """People you may know: followed by people you follow, most mutual follows first (one
        ranked page: ``next_cursor`` is always null)."""
        return SuggestionPage(items=await suggestions.suggest(principal, limit), next_cursor=None)

    @delete("/me/suggestions/people/{user_id:uuid}", status_code=204)
    async def dismiss(
        self,
        user_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal],
        suggestions: NamedDependency[PeopleSuggestions],
    ) -> None:
        """Dismiss a suggestion: that user is not suggested to you again."""
        await suggestions.dismiss(principal, user_id)

    @get("/me/recommendations/videos")
    async def videos(
        self,
        principal: NamedDependency[Principal],
        recommendations: NamedDependency[VideoRecommendations],
        limit: Few = 10,
    ) -> RecommendationPage:
        """Videos for you, each with why: what people you follow rated and watched, else what is
        popular (one ranked page: ``next_cursor`` is always null)."""
        return RecommendationPage(items=await recommendations.recommend(principal, limit), next_cursor=None)

    @post("/videos/{video_id:uuid}/watches", status_code=201)
    async def watched(
        self,
        video_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal],
        watches: NamedDependency[WatchService],
    ) -> Watch:
        """Report that you watched a video (each report counts; recommendations leave it out)."""
        return await watches.record(principal, video_id)

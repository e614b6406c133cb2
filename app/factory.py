"""The composition root: ``create_app(settings)`` is the only place that chooses backends."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

from litestar import Litestar
from litestar.di import Provide

from app import logs, openapi
from app.accounts.controller import AccountController
from app.accounts.service import AccountService
from app.accounts.tables import TABLES as MAIN_TABLES
from app.auth.controller import TokenController
from app.auth.dependencies import provide_principal, provide_viewer
from app.auth.principals import Principals
from app.auth.ratelimit import LoginLimiter, RegistrationLimiter, storage_for
from app.auth.refresh import RefreshTokens
from app.auth.tokens import AccessTokens
from app.bodies import check_json_body
from app.comments.controller import CommentController
from app.comments.service import CommentService
from app.db import Database
from app.errors import EXCEPTION_HANDLERS
from app.feed.controller import FeedController
from app.feed.push import FeedPusher
from app.feed.service import FeedService
from app.headers import cors_config, cors_refusal_as_error, security_headers
from app.health.controller import HealthController
from app.health.probes import Probe, graph_probe, outbox_probe, redis_probe
from app.identity.store import IdentityStore
from app.identity.tables import TABLES as IDENTITY_TABLES
from app.moderation.controller import ModerationController
from app.moderation.policy import ModerationPolicy
from app.moderation.service import ModerationService
from app.moderation.throttle import Throttle
from app.parties.controller import PartyController
from app.parties.service import PartyService
from app.ratings.broadcaster import RatingBroadcaster
from app.ratings.controller import RatingController
from app.ratings.service import RATINGS_CHANNEL, RatingService
from app.redis_client import redis_client
from app.search.controller import SearchController
from app.search.postgres import PostgresSearch
from app.settings import Settings, SettingsError
from app.social.controller import DiscoveryController, SocialController
from app.social.recommendations import VideoRecommendations
from app.social.relations import SocialService
from app.social.suggestions import PeopleSuggestions
from app.social.watches import WatchService
from app.videos.controller import VideoController
from app.videos.service import VideoService
from app.web_client import web_client_handlers
from graph.base import Graph
from graph.falkordb import FalkorGraph
from graph.neo4j import Neo4jGraph
from graph.projector import Projector
from media.controller import MediaController
from media.jobs import JobQueue
from media.purge import MEDIA_CHANNEL, Purger
from media.serving import MediaServer
from media.signing import MediaTokens
from media.storage import open_storage
from media.storage.base import Storage
from media.uploads import Uploads
from media.worker import TranscodeWorker
from migrations import runner
from realtime.bus.base import Bus
from realtime.bus.memory import MemoryBus
from realtime.bus.redis import RedisBus
from realtime.channels import ChannelRules
from realtime.gateway import Gateway, gateway_socket
from realtime.node import Node
from realtime.outbox import Handler, Relay
from realtime.parties.drift import MYDRTV
from realtime.parties.live import Leads, LiveParties
from realtime.parties.socket import PartySocket
from realtime.parties.state import Party
from realtime.parties.store.base import PartyStore
from realtime.parties.store.memory import MemoryPartyStore
from realtime.parties.store.redis import RedisPartyStore
from realtime.presence.base import Presence
from realtime.presence.memory import MemoryPresence
from realtime.presence.redis import RedisPresence
from realtime.revocation import Revocation

log = logging.getLogger("mydrtv")


async def _set_up_graph(graph: Graph) -> None:
    """Indexes and constraints now if the graph answers; otherwise the projector sets them up
    before its first change, and readiness reports the graph down meanwhile."""
    try:
        await graph.setup()
    except Exception:
        log.warning("graph schema setup failed; retried with the first graph change", exc_info=True)


async def _stop(task: asyncio.Task[None]) -> None:
    """Cancel a background task and wait for it to end, cancelling again if a library it was
    inside swallowed the cancellation (seen with the outbox relay: it then polled for ever)."""
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=1.0)
    if not task.cancelled() and task.exception() is not None:
        log.error("background task %s failed", task.get_name(), exc_info=task.exception())


def _constant(value: Any) -> Provide:
    async def provide() -> Any:
        return value

    return Provide(provide)


def graph_backend(settings: Settings) -> Graph | None:
    """The graph backend ``graph_url`` names: FalkorDB (falkor://, redis://) or Neo4j (bolt://,
    neo4j://; ``?dialect=falkordb`` for FalkorDB's Bolt listener); none when it is empty."""
    if not settings.graph_url:
        return None
    if urlsplit(settings.graph_url).scheme.startswith(("bolt", "neo4j")):
        try:
            return Neo4jGraph(settings.graph_url)
        except ValueError as exc:
            raise SettingsError(f"MYDRTV_GRAPH_URL: {exc}; dialect is neo4j or falkordb") from exc
    return FalkorGraph(settings.graph_url, settings.graph_name)


def bus_for(settings: Settings) -> Bus:
    """Redis when ``redis_url`` is set (many processes), else in-process memory (one process)."""
    if settings.redis_url:
        return RedisBus(
            settings.redis_url,
            settings.redis_namespace,
            settings.bus_history_size,
            settings.bus_history_seconds,
        )
    return MemoryBus(settings.bus_history_size, settings.bus_history_seconds)


def media_storage(settings: Settings) -> Storage | None:
    """The object storage ``storage_url`` names (file:// or s3://); none when it is empty."""
    if not settings.storage_url:
        return None
    return open_storage(settings.storage_url, part_bytes=settings.s3_part_bytes)


def job_queue(settings: Settings, main: Database) -> JobQueue:
    return JobQueue(
        main, lease_seconds=settings.transcode_lease_seconds, max_attempts=settings.transcode_max_attempts
    )


def transcode_worker(
    settings: Settings, main: Database, storage: Storage, bus: Bus, videos: VideoService
) -> TranscodeWorker:
    return TranscodeWorker(
        main,
        storage,
        job_queue(settings, main),
        bus,
        videos,
        preset=settings.transcode_preset,
        segment_seconds=settings.transcode_segment_seconds,
        work_dir=settings.media_work_dir,
        poll_seconds=settings.transcode_poll_seconds,
    )


def create_app(settings: Settings) -> Litestar:
    settings.require("database_url", "identity_database_url", "jwt_secret")
    if len(settings.jwt_secret) < 32:
        raise SettingsError("MYDRTV_JWT_SECRET must have at least 32 characters (HS256 wants 256 bits)")
    logs.configure(settings.log_level)

    # Build what can refuse bad settings first, before anything global is touched.
    probes: dict[str, Probe] = {}
    if settings.graph_url:
        probes["graph"] = graph_probe(settings.graph_url)
    storage = media_storage(settings)
    if storage is not None:
        probes["storage"] = storage.ping
    bound = settings.database_timeout_seconds
    main = Database("main", settings.database_url, MAIN_TABLES, timeout=bound)
    identity = Database("identity", settings.identity_database_url, IDENTITY_TABLES, timeout=bound)
    redis = redis_client(settings.redis_url) if settings.redis_url else None
    probes = {"database": main.ping, "identity_database": identity.ping, **probes}
    if redis is not None:
        probes["redis"] = redis_probe(redis)

    bus = bus_for(settings)
    presence: Presence = (
        RedisPresence(settings.redis_url, settings.redis_namespace, settings.presence_ttl_seconds)
        if settings.redis_url
        else MemoryPresence(settings.presence_ttl_seconds)
    )
    node = Node(bus, presence)
    limits_storage = storage_for(settings.redis_url, settings.redis_namespace)
    access_tokens = AccessTokens(settings.jwt_secret, settings.jwt_issuer, settings.access_token_seconds)
    principals = Principals(main, access_tokens)  # the current role of a token's user
    principals.watch(Revocation(node, principals).changed)
    videos = VideoService(main)

    # Watch parties: live state in the party store (Redis when configured), records in PostgreSQL.
    party_store: PartyStore = (
        RedisPartyStore(settings.redis_url, settings.redis_namespace, settings.party_state_ttl_seconds)
        if settings.redis_url
        else MemoryPartyStore(settings.party_state_ttl_seconds)
    )
    leads = Leads(settings.party_start_lead_ms, settings.party_quick_lead_ms, settings.party_max_lead_ms)

    async def rebuild_party(party_id: str) -> Party | None:  # the service is built next: it needs ``live``
        return await parties.rebuild(party_id)

    live_parties = LiveParties(party_store, bus, presence, rebuild_party, leads)
    parties = PartyService(main, videos, live_parties, settings.party_max_members, MYDRTV)
    # Social graph, suggestions, recommendations and the activity feed.
    graph = graph_backend(settings)
    suggestions = PeopleSuggestions(main, graph, settings.suggestions_cache_seconds)
    feed = FeedService(main, videos)
    relay_handlers: dict[str, Handler] = {"@feed": FeedPusher(main, bus, presence, feed).handle}
    if graph is not None:
        relay_handlers["@graph"] = Projector(main, graph).handle
    social_services: dict[str, Any] = {
        "social": SocialService(main, on_change=suggestions.forget),
        "suggestions": suggestions,
        "recommendations": VideoRecommendations(
            main, graph, videos, popular_seconds=settings.popular_videos_cache_seconds
        ),
        "watches": WatchService(main, videos),
        "feed": feed,
    }

    services: dict[str, Any] = {
        "accounts": AccountService(IdentityStore(), settings.minimum_age, main=main, principals=principals),
        "access_tokens": access_tokens,
        "principals": principals,
        "gateway": Gateway(
            node,
            principals,
            settings,
            ChannelRules(videos=videos, parties=parties),
            limits_storage,
            parties=PartySocket(live_parties, parties),
        ),
        "refresh_tokens": RefreshTokens(identity, settings.refresh_token_seconds),
        "login_limiter": LoginLimiter(
            limits_storage,
            settings.login_limit_per_account,
            settings.login_limit_per_address,
        ),
        "registration_limiter": RegistrationLimiter(limits_storage, settings.register_limit_per_address),
        "probes": probes,
        "videos": videos,
        "parties": parties,
        "search": PostgresSearch(main),
        **social_services,
    }
    background: list[Callable[[], Coroutine[Any, Any, None]]] = []  # run beside the relay, where it runs

    # Comments, ratings and moderation (issue 4).
    throttle = Throttle(limits_storage)
    policy = ModerationPolicy(main, throttle, settings.comment_rate)
    rating_broadcaster = RatingBroadcaster(main, bus, settings.rating_events_per_second)
    services["comments"] = CommentService(
        main,
        videos,
        policy,
        throttle,
        max_chars=settings.comment_max_chars,
        edit_seconds=settings.comment_edit_seconds,
        report_rate=settings.report_rate,
    )
    services["ratings"] = RatingService(main, videos, policy, throttle, settings.rating_rate)
    services["moderation"] = ModerationService(main, videos, policy)
    relay_handlers[RATINGS_CHANNEL] = rating_broadcaster.changed
    background.append(rating_broadcaster.run)

    # Media (issue 7): uploads, the transcoding worker, serving; only with storage configured.
    media_routes: list[type[MediaController]] = []
    worker: TranscodeWorker | None = None
    if storage is not None:
        worker = transcode_worker(settings, main, storage, bus, videos)
        services["uploads"] = Uploads(
            main,
            storage,
            videos,
            job_queue(settings, main),
            max_bytes=settings.media_max_upload_bytes,
            spool_dir=settings.media_spool_dir,
        )
        tokens = MediaTokens(settings.jwt_secret, settings.jwt_issuer, settings.media_signed_url_seconds)
        services["media"] = MediaServer(main, storage, videos, tokens, redirect=settings.media_redirect)
        relay_handlers[MEDIA_CHANNEL] = Purger(storage).handle
        media_routes.append(MediaController)
    relay = Relay(main, bus, handlers=relay_handlers) if settings.outbox_relay else None
    probes["outbox"] = outbox_probe(main, relay)  # whether what this instance accepts goes out

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        started: list[Database] = []
        started_tasks: list[asyncio.Task[None]] = []
        try:
            for db in (main, identity):
                await db.start()
                started.append(db)
                await runner.check(db.engine, db.name, db.url)
            await node.start()
            started_tasks.append(asyncio.create_task(principals.run(), name="principals"))
            if graph is not None:
                await _set_up_graph(graph)
            if relay is not None:
                started_tasks.append(asyncio.create_task(relay.run(), name="outbox-relay"))
                started_tasks += [asyncio.create_task(job()) for job in background]
            if worker is not None and settings.media_worker:
                started_tasks.append(asyncio.create_task(worker.run(), name="transcode-worker"))
            yield
        finally:
            for task in started_tasks:
                await _stop(task)
            await node.stop()
            await party_store.close()
            if graph is not None:
                await graph.close()
            if storage is not None:
                await storage.close()
            for db in started:
                await db.stop()
            if redis is not None:
                await redis.aclose()

    cors = cors_config(settings.cors_origins)
    app = Litestar(
        route_handlers=[
            HealthController,
            TokenController,
            AccountController,
            VideoController,
            PartyController,
            CommentController,
            RatingController,
            ModerationController,
            SocialController,
            DiscoveryController,
            FeedController,
            SearchController,
            *media_routes,
            gateway_socket,
            *web_client_handlers(settings.web_dist_dir),  # last: it answers only what no API route does
        ],
        dependencies={
            "principal": Provide(provide_principal),
            "viewer": Provide(provide_viewer),
            **{name: _constant(value) for name, value in services.items()},
        },
        exception_handlers=EXCEPTION_HANDLERS,
        before_request=check_json_body,
        before_send=[
            security_headers(tls=settings.served_over_tls, cors=cors is not None),
            cors_refusal_as_error,
        ],
        cors_config=cors,
        lifespan=[lifespan],
        openapi_config=openapi.config(),
        logging_config=None,
        debug=False,
    )
    app.state.node = node  # the CLI's server asks it to say goodbye to clients on SIGTERM
    app.state.principals = principals  # tests watch it hear a user change
    return app

"""The app factory: ``create_app(settings)`` wires every feature to the backends ``server.backends`` picks."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Litestar
from litestar.di import Provide

from app.accounts.controller import AccountController
from app.accounts.service import AccountService
from app.accounts.tables import TABLES as MAIN_TABLES
from app.auth.controller import TokenController
from app.auth.dependencies import provide_principal, provide_viewer
from app.auth.hooks import SignInHooks
from app.auth.principals import Principals
from app.auth.ratelimit import LoginLimiter, RegistrationLimiter
from app.auth.refresh import RefreshTokens
from app.comments.controller import CommentController
from app.comments.service import CommentService
from app.feed.controller import FeedController
from app.feed.push import FeedPusher
from app.feed.service import FeedService
from app.health.controller import HealthController
from app.health.probes import Probe, graph_probe, outbox_probe, redis_probe
from app.identity.crypto import BadMasterKey, Keyring
from app.identity.profiles import ProfileStore
from app.identity.store import IdentityStore
from app.identity.tables import TABLES as IDENTITY_TABLES
from app.moderation.controller import ModerationController
from app.moderation.policy import ModerationPolicy
from app.moderation.service import ModerationService
from app.moderation.throttle import Throttle
from app.notifications.controller import NotificationController
from app.notifications.service import NotificationService
from app.parties.controller import PartyController
from app.parties.drift import MYDRTV
from app.parties.live import Leads, LiveParties
from app.parties.service import PartyService
from app.parties.socket import PartySocket
from app.parties.state import Party
from app.privacy.controller import ROUTES as PRIVACY_ROUTES
from app.privacy.controller import PrivacyController
from app.profiles.controller import AvatarController, ProfileController
from app.profiles.service import ProfileService
from app.profiles.serving import AvatarFiles
from app.ratings.broadcaster import RatingBroadcaster
from app.ratings.controller import RatingController
from app.ratings.service import RATINGS_CHANNEL, RatingService
from app.search.controller import SearchController
from app.search.postgres import PostgresSearch
from app.social.controller import DiscoveryController, SocialController
from app.social.naming import Naming
from app.social.rankings import PrecomputedRankings, projecting_handler
from app.social.recommendations import VideoRecommendations
from app.social.relations import SocialService
from app.social.suggestions import PeopleSuggestions
from app.social.watches import WatchService
from app.videos.controller import VideoController
from app.videos.media.controller import MediaController
from app.videos.media.jobs import JobQueue
from app.videos.media.purge import MEDIA_CHANNEL, Purger
from app.videos.media.serving import MediaServer
from app.videos.media.uploads import Uploads
from app.videos.media.worker import TranscodeWorker
from app.videos.service import VideoService
from core import logs
from core.bodies import check_json_body
from core.db import Database
from core.redis_client import redis_client
from core.settings import Settings, SettingsError
from core.tokens import AccessTokens
from graph.projector import Projector
from media.signing import MediaTokens
from media.storage.base import Storage
from realtime.bus.base import Bus
from realtime.channels import ChannelRules
from realtime.gateway import Gateway, gateway_socket
from realtime.node import Node
from realtime.outbox import Handler, Relay
from realtime.revocation import Revocation
from server import backends, openapi, tracing
from server import privacy as privacy_wiring
from server.errors import EXCEPTION_HANDLERS
from server.headers import cors_config, cors_refusal_as_error, security_headers
from server.lifespan import Job, lifespan
from server.metrics import Metrics, metrics_route
from server.retention import retention_job
from server.web_client import web_client_handlers

log = logging.getLogger("mydrtv")


def _constant(value: Any) -> Provide:
    async def provide() -> Any:
        return value

    return Provide(provide)


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


def keyring_of(settings: Settings) -> Keyring:
    """The privacy master keys (``app/identity/crypto.py``); a malformed one is a settings error."""
    try:
        return Keyring.from_settings(settings.privacy_master_key, settings.privacy_old_master_keys)
    except BadMasterKey as exc:
        raise SettingsError(f"MYDRTV_PRIVACY_MASTER_KEY / MYDRTV_PRIVACY_OLD_MASTER_KEYS: {exc}") from exc


def create_app(settings: Settings) -> Litestar:
    settings.require("database_url", "identity_database_url", "jwt_secret", "privacy_master_key")
    if len(settings.jwt_secret) < 32:
        raise SettingsError("MYDRTV_JWT_SECRET must have at least 32 characters (HS256 wants 256 bits)")
    keyring = keyring_of(settings)
    logs.configure(settings.log_level)

    # Build what can refuse bad settings first, before anything global is touched.
    probes: dict[str, Probe] = {}
    if settings.graph_url:
        probes["graph"] = graph_probe(settings.graph_url)
    storage = backends.storage(settings)
    if storage is not None:
        probes["storage"] = storage.ping
    bound = settings.database_timeout_seconds
    main = Database("main", settings.database_url, MAIN_TABLES, timeout=bound)
    identity = Database("identity", settings.identity_database_url, IDENTITY_TABLES, timeout=bound)
    redis = redis_client(settings.redis_url) if settings.redis_url else None
    probes = {"database": main.ping, "identity_database": identity.ping, **probes}
    if redis is not None:
        probes["redis"] = redis_probe(redis)

    bus = backends.bus(settings)
    presence = backends.presence(settings)
    node = Node(bus, presence, settings.presence_announce_max)
    limits_storage = backends.rate_limits(settings)
    access_tokens = AccessTokens(settings.jwt_secret, settings.jwt_issuer, settings.access_token_seconds)
    principals = Principals(main, access_tokens)  # the current role of a token's user
    principals.watch(Revocation(node, principals).changed)
    videos = VideoService(main, stamps=backends.change_stamps(settings, redis))
    profiles = ProfileService(main, ProfileStore(identity, keyring), storage)

    # Watch parties: live state in the party store (Redis when configured), records in PostgreSQL.
    party_store = backends.party_store(settings)
    leads = Leads(settings.party_start_lead_ms, settings.party_quick_lead_ms, settings.party_max_lead_ms)

    async def rebuild_party(party_id: str) -> Party | None:  # the service is built next: it needs ``live``
        return await parties.rebuild(party_id)

    live_parties = LiveParties(party_store, bus, presence, rebuild_party, leads)
    parties = PartyService(main, videos, live_parties, settings.party_max_members, MYDRTV)
    # Social graph, suggestions, recommendations and the activity feed.
    graph = backends.graph(settings)
    naming = Naming(main, profiles)  # who is behind a suggestion or a recommendation, by name
    suggestions = PeopleSuggestions(main, graph, settings.suggestions_cache_seconds, naming=naming)
    feed = FeedService(main, videos)
    relay_handlers: dict[str, Handler] = {"@feed": FeedPusher(main, bus, presence, feed).handle}
    rankings: PrecomputedRankings | None = None
    if graph is not None:  # projected changes also recompute the rankings they touch
        rankings = PrecomputedRankings(
            main,
            graph,
            above_paths=settings.rankings_above_paths,
            refresh_seconds=settings.rankings_refresh_seconds,
        )
        relay_handlers["@graph"] = projecting_handler(Projector(main, graph), rankings)
    social_services: dict[str, Any] = {
        "social": SocialService(main, on_change=suggestions.forget),
        "suggestions": suggestions,
        "recommendations": VideoRecommendations(
            main, graph, videos, popular_seconds=settings.popular_videos_cache_seconds, naming=naming
        ),
        "watches": WatchService(main, videos),
        "feed": feed,
    }

    services: dict[str, Any] = {
        "accounts": AccountService(
            IdentityStore(keyring),
            settings.minimum_age,
            policy_version=settings.privacy_policy_version,
            main=main,
            principals=principals,
        ),
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
        "refresh_tokens": RefreshTokens(
            identity, settings.refresh_token_seconds, settings.refresh_reuse_grace_seconds
        ),
        "login_limiter": LoginLimiter(
            limits_storage,
            settings.login_limit_per_account,
            settings.login_limit_per_address,
        ),
        "registration_limiter": RegistrationLimiter(limits_storage, settings.register_limit_per_address),
        "probes": probes,
        "videos": videos,
        "profiles": profiles,
        "parties": parties,
        "search": PostgresSearch(main, profiles),
        "notifications": NotificationService(main, names=profiles.names),
        **social_services,
    }
    background: list[Job] = []  # run beside the relay, where it runs

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
    media_routes: list[type[MediaController | AvatarController]] = []
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
        services["media"] = MediaServer(
            main,
            storage,
            videos,
            tokens,
            redirect=settings.media_redirect,
            accel_prefix=settings.media_accel_redirect,
            links=backends.secure_links(settings),
        )
        relay_handlers[MEDIA_CHANNEL] = Purger(storage).handle
        media_routes.append(MediaController)
        services["avatar_files"] = AvatarFiles(storage, redirect=settings.media_redirect)
        media_routes.append(AvatarController)
    # Privacy (issue 14): export, erasure and the audit walk the registry of personal data parts.
    privacy_jobs = privacy_wiring.jobs(settings, main)
    privacy_parts = privacy_wiring.registry(
        settings,
        main,
        identity,
        privacy_jobs,
        parties=parties,
        storage=storage,
        graph=graph,
        redis=redis,
        forget_suggestions=suggestions.forget,
        forget_principal=principals.forget,
        shred_keys=privacy_wiring.shredder(identity),
    )
    privacy = privacy_wiring.service(
        settings, main, identity, privacy_jobs, storage, record_access=privacy_wiring.record_admin_access
    )
    services["privacy"] = privacy
    services["privacy_registry"] = privacy_parts
    services["sign_in_hooks"] = SignInHooks([privacy.cancel_erasure])
    privacy_worker = privacy_wiring.worker(settings, main, privacy_jobs, privacy_parts, storage, bus)

    relay = Relay(main, bus, handlers=relay_handlers) if settings.outbox_relay else None
    if relay is not None and rankings is not None:  # the jobs work where the relay leads
        rankings.active = lambda: relay.leading
    probes["outbox"] = outbox_probe(main, relay)  # whether what this instance accepts goes out

    jobs: list[tuple[str, Job]] = [("principals", principals.run)]
    if relay is not None:
        jobs.append(("outbox-relay", relay.run))
        jobs.append(("retention", retention_job(settings, main, identity).run))
        jobs += [(f"background-{n}", job) for n, job in enumerate(background)]
        if rankings is not None and settings.rankings_worker:
            jobs.append(("rankings", rankings.run))
    if worker is not None and settings.media_worker:
        jobs.append(("transcode-worker", worker.run))
    if settings.privacy_worker:
        jobs.append(("privacy-worker", privacy_worker.run))
    closers = [party_store.close]
    if graph is not None:
        closers.append(graph.close)
    if storage is not None:
        closers.append(storage.close)
    if redis is not None:
        closers.append(redis.aclose)
    # Metrics and traces (docs/operations.md): off unless enabled; nothing is wrapped then.
    middleware: list[Any] = []
    extra_routes: list[Any] = []
    metrics: Metrics | None = None
    if settings.metrics:
        metrics = Metrics(main, node, relay)
        if graph is not None:
            graph.observe = metrics.graph_query
        if worker is not None:
            worker.observe = metrics.transcoded
        middleware.append(metrics.middleware)
        extra_routes.append(metrics_route(metrics, settings.metrics_token))
    traces = tracing.install(settings)
    if traces is not None:
        middleware.append(traces[0])
        closers.append(traces[1])
    running = lifespan((main, identity), node, graph, jobs, closers)

    cors = cors_config(settings.cors_origins)
    app = Litestar(
        route_handlers=[
            HealthController,
            TokenController,
            AccountController,
            ProfileController,
            VideoController,
            PartyController,
            CommentController,
            RatingController,
            ModerationController,
            SocialController,
            DiscoveryController,
            FeedController,
            NotificationController,
            SearchController,
            PrivacyController,
            *media_routes,
            gateway_socket,
            *PRIVACY_ROUTES,  # after the controllers whose paths they share
            *extra_routes,
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
        middleware=middleware,
        lifespan=[running],
        openapi_config=openapi.config(),
        logging_config=None,
        debug=False,
    )
    app.state.node = node  # the CLI's server asks it to say goodbye to clients on SIGTERM
    app.state.principals = principals  # tests watch it hear a user change
    app.state.privacy_worker = privacy_worker  # tests run its jobs when they choose
    app.state.metrics = metrics  # tests read what the dashboard may query
    return app

"""Wiring of the privacy lifecycle: the registry of personal data parts, the service and the
worker. Shared by the app (``create_app``) and the ``mydrtv privacy`` commands.

The registry's order is the erasure's order (see ``app/privacy/parts.py``): the identity
database first: the avatar images, the profile row (and again anything under the avatar
prefix) before the account, whose deletion would take the row by cascade, then the account
(from then on nobody signs in as the user); parties while the user row still names the
leaving member, notifications before the comments they point at, the feed before the social
relations (withdrawing a feed item needs the followers), everything else of the main database
before the public user row (whose deletion refuses the user's access tokens), then the graph
(follower counts read from PostgreSQL), then Redis (the last live traces: presence, history
entries).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from app.accounts.privacy import AccountPart
from app.comments.privacy import CommentsPart
from app.feed.privacy import FeedPart
from app.identity.audit import record_personal_data_access
from app.identity.crypto import Keyring
from app.identity.privacy import IdentityPart
from app.identity.profiles import ProfileStore
from app.identity.store import shred_user_keys
from app.moderation.privacy import ModerationPart
from app.notifications.privacy import NotificationsPart
from app.parties.privacy import PartiesPart
from app.parties.service import PartyService
from app.privacy.erasure import Eraser
from app.privacy.export import Exporter
from app.privacy.graph import GraphPart
from app.privacy.jobs import PrivacyJobs
from app.privacy.outbox import OutboxPart
from app.privacy.parts import Registry
from app.privacy.redis_state import RedisPart
from app.privacy.service import AccessRecorder, PrivacyService
from app.privacy.worker import PrivacyWorker
from app.profiles.privacy import AvatarPart, ProfilePart
from app.profiles.service import ProfileService
from app.ratings.privacy import RatingsPart
from app.social.privacy import SocialPart
from app.videos.media.privacy import UploadsPart
from core.db import Database
from core.redis_client import RedisClient
from core.settings import Settings
from core.tokens import Principal
from graph.base import Graph
from media.storage.base import Storage
from realtime.bus.base import Bus

UserHook = Callable[[Any], Awaitable[object]]


def registry(
    settings: Settings,
    main: Database,
    identity: Database,
    jobs: PrivacyJobs,
    *,
    parties: PartyService,
    storage: Storage | None,
    graph: Graph | None,
    redis: RedisClient | None,
    forget_suggestions: UserHook | None = None,
    forget_principal: Callable[[Any], None] | None = None,
    shred_keys: UserHook | None = None,
) -> Registry:
    """Every personal data part of this deployment, in erasure order.

    ``shred_keys`` destroys a user's data key (crypto-shredding of the identity database) before
    the account row goes: the identity feature's ``shred_user_keys``."""
    redis_part = RedisPart(redis, settings.redis_namespace) if redis is not None else None
    keys = keyring(settings)
    profiles = ProfileService(main, ProfileStore(identity, keys), storage)
    parts: list[Any] = [AvatarPart(storage)] if storage is not None else []
    parts.append(ProfilePart(identity, profiles))
    parts.append(
        IdentityPart(
            identity,
            keys,
            shred_keys=shred_keys,
            on_email=[redis_part.forget_email] if redis_part else [],
        )
    )
    parts += [
        PartiesPart(main, parties),
        NotificationsPart(main),
        FeedPart(main, settings.bus_history_seconds),
        CommentsPart(main),
        RatingsPart(main),
        ModerationPart(main),
        SocialPart(main, forget_suggestions),
    ]
    if storage is not None:
        parts.append(UploadsPart(main, storage, jobs.remember_videos, jobs.remembered_videos))
    parts += [OutboxPart(main), AccountPart(main, forget_principal)]
    if graph is not None:
        parts.append(GraphPart(main, graph))
    if redis_part is not None:
        parts.append(redis_part)
    return Registry(parts)


def keyring(settings: Settings) -> Keyring | None:
    """The privacy master keys, to open sealed fields for an export and the email for erasure;
    None where none is configured (the audit needs none)."""
    if not settings.privacy_master_key.strip():
        return None
    return Keyring.from_settings(settings.privacy_master_key, settings.privacy_old_master_keys)


def shredder(identity: Database) -> UserHook:
    """``shred_user_keys`` on this identity database (whether or not its tables are bound)."""

    async def shred(user_id: Any) -> bool:
        return await shred_user_keys(user_id, identity)

    return shred


async def record_admin_access(admin: Principal, subject_id: uuid.UUID, action: str) -> None:
    """The service's ``record_access``: an admin's export or erasure of someone's data goes to the
    identity database's access log (``app/identity/audit.py``; its tables bound, as in the app)."""
    await record_personal_data_access(admin.id, subject_id, action)


def jobs(settings: Settings, main: Database) -> PrivacyJobs:
    return PrivacyJobs(main, lease_seconds=settings.privacy_lease_seconds)


def service(
    settings: Settings,
    main: Database,
    identity: Database,
    privacy_jobs: PrivacyJobs,
    storage: Storage | None,
    record_access: AccessRecorder | None = None,
) -> PrivacyService:
    return PrivacyService(
        main,
        privacy_jobs,
        IdentityPart(identity, keyring(settings)),
        storage,
        secret=settings.jwt_secret,
        issuer=settings.jwt_issuer,
        link_seconds=settings.privacy_export_link_seconds,
        grace_seconds=settings.privacy_erasure_grace_days * 86400,
        record_access=record_access,
    )


def worker(
    settings: Settings,
    main: Database,
    privacy_jobs: PrivacyJobs,
    parts: Registry,
    storage: Storage | None,
    bus: Bus,
) -> PrivacyWorker:
    exporter = None
    if storage is not None:
        exporter = Exporter(
            main,
            parts,
            privacy_jobs,
            storage,
            bus,
            retention_seconds=settings.privacy_export_retention_seconds,
            work_dir=settings.media_work_dir,
        )
    return PrivacyWorker(
        main,
        privacy_jobs,
        Eraser(main, parts, privacy_jobs),
        exporter,
        bus,
        poll_seconds=settings.privacy_poll_seconds,
    )


class Standalone:
    """What ``mydrtv privacy`` commands need without the app: the databases, backends, the
    registry and a worker, started and stopped together."""

    def __init__(self, settings: Settings) -> None:
        from app.parties.drift import MYDRTV
        from app.parties.live import Leads, LiveParties
        from app.videos.service import VideoService
        from core.redis_client import redis_client
        from server import backends

        self.settings = settings
        # No tables bound: every part reads and writes with SQL, so this can run beside an app
        # (in tests) without taking its Piccolo tables over.
        self.main = Database("main", settings.database_url, timeout=settings.database_timeout_seconds)
        self.identity = Database("identity", settings.identity_database_url)
        self.bus = backends.bus(settings)
        self.presence = backends.presence(settings)
        self.storage = backends.storage(settings)
        self.graph = backends.graph(settings)
        self.redis = redis_client(settings.redis_url) if settings.redis_url else None
        self._party_store = backends.party_store(settings)
        leads = Leads(settings.party_start_lead_ms, settings.party_quick_lead_ms, settings.party_max_lead_ms)

        async def rebuild(party_id: str) -> Any:
            return await parties.rebuild(party_id)

        live = LiveParties(self._party_store, self.bus, self.presence, rebuild, leads)
        parties = PartyService(self.main, VideoService(self.main), live, settings.party_max_members, MYDRTV)
        self.jobs = jobs(settings, self.main)
        self.registry = registry(
            settings,
            self.main,
            self.identity,
            self.jobs,
            parties=parties,
            storage=self.storage,
            graph=self.graph,
            redis=self.redis,
            shred_keys=shredder(self.identity),
        )

        self.worker = worker(settings, self.main, self.jobs, self.registry, self.storage, self.bus)

    async def start(self) -> None:
        from migrations import runner

        await self.main.start(max_size=4)
        await self.identity.start(max_size=2)
        await runner.check(self.main.engine, self.main.name, self.main.url)
        await self.bus.start()

    async def stop(self) -> None:
        await self.bus.stop()
        await self._party_store.close()
        if self.storage is not None:
            await self.storage.close()
        if self.graph is not None:
            await self.graph.close()
        if self.redis is not None:
            await self.redis.aclose()
        await self.presence.close()
        await self.identity.stop()
        await self.main.stop()

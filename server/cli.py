"""The ``mydrtv`` command: ``serve``, ``dev``, ``worker``, ``migrate``, ``create-admin``, ``graph``,
``privacy`` and ``openapi``."""

from __future__ import annotations

import argparse
import asyncio
import gc
import getpass
import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import msgspec
import uvicorn

from app.identity.crypto import CryptoError
from core import logs
from core.errors import DomainError
from core.settings import Settings, SettingsError
from core.tasks import stop_task
from graph.base import GraphUnavailable
from migrations.runner import NotMigrated

if TYPE_CHECKING:
    from core.db import Database
    from realtime.node import Node

log = logging.getLogger("mydrtv")


def _with_embedded_urls(settings: Settings) -> Settings:
    """Commands other than ``serve`` default to the embedded stack that ``mydrtv dev`` runs."""
    from server.embedded.stack import IDENTITY_DATABASE, MAIN_DATABASE

    base = f"postgresql://postgres@127.0.0.1:{settings.embedded_postgres_port}/"
    return msgspec.structs.replace(
        settings,
        database_url=settings.database_url or base + MAIN_DATABASE,
        identity_database_url=settings.identity_database_url or base + IDENTITY_DATABASE,
    )


def _with_embedded_identity(settings: Settings) -> Settings:
    """Commands that read the identity database default to the embedded stack's, and then to
    that stack's privacy master key too (made in its data directory if it has none yet)."""
    from server.embedded.stack import EmbeddedStack

    if settings.privacy_master_key or settings.identity_database_url:
        return _with_embedded_urls(settings)
    key = EmbeddedStack(settings).privacy_master_key()
    return _with_embedded_urls(msgspec.structs.replace(settings, privacy_master_key=key))


def _migration_context(settings: Settings) -> dict[str, object]:
    """What Python steps of migrations need: sealing plaintext accounts (identity m0003) and
    profile bios (m0004) takes the master key; without one configured, those steps refuse only
    if there is something to seal."""
    from functools import partial

    from app.identity.store import seal_account, seal_field
    from server.factory import keyring_of

    if not settings.privacy_master_key:
        return {}
    keyring = keyring_of(settings)
    return {"seal_account": partial(seal_account, keyring), "seal_field": partial(seal_field, keyring)}


async def migrate(settings: Settings) -> None:
    from core.db import Database
    from migrations import runner

    urls = {"main": settings.database_url, "identity": settings.identity_database_url}
    context = _migration_context(settings)
    for name, url in urls.items():
        db = Database(name, url)
        try:
            done = await runner.migrate(db.engine, name, context)
        finally:
            await db.stop()
        log.info("migrated", extra={"database": name, "applied": done})


async def seed_demo(settings: Settings) -> None:
    """Demo videos for the embedded default (see ``app/videos/demo.py``)."""
    from app.videos import demo
    from core.db import Database

    db = Database("main", settings.database_url)
    await db.start(max_size=1)
    try:
        added = await demo.seed(db)
    finally:
        await db.stop()
    log.info("demo content", extra={"videos_added": added})


async def seed_demo_media(settings: Settings) -> None:
    """Give the demo videos real HLS: test patterns made by ffmpeg, queued for the worker."""
    from app.videos.media import demo
    from app.videos.media.uploads import Uploads
    from app.videos.service import VideoService
    from core.db import Database
    from server import backends
    from server.factory import job_queue

    storage = backends.storage(settings)
    if storage is None:
        return
    db = Database("main", settings.database_url)
    await db.start(max_size=2)
    try:
        uploads = Uploads(db, storage, VideoService(db), job_queue(settings, db), max_bytes=2**40)
        queued = await demo.seed_media(db, uploads)
    finally:
        await storage.close()
        await db.stop()
    log.info("demo media", extra={"videos_queued": queued})


class _Server(uvicorn.Server):
    """uvicorn, but on SIGTERM or SIGINT websocket clients hear "reconnect elsewhere" first."""

    def __init__(self, config: uvicorn.Config, node: Node) -> None:
        super().__init__(config)
        self._node = node
        self._leaving = False

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._leaving or not self.started:
            super().handle_exit(sig, frame)
            return
        self._leaving = True
        loop = asyncio.get_running_loop()
        loop.call_soon_threadsafe(lambda: loop.create_task(self._leave(sig, frame)))

    async def _leave(self, sig: int, frame: FrameType | None) -> None:
        await self._node.say_goodbye()
        super().handle_exit(sig, frame)


# A gateway holds hundreds of thousands of long-lived objects (sockets, tasks, frames); with the
# default thresholds the collector walks them often enough to stall fan-out by ~100 ms (p99 of
# bench/fanout fell from 160 ms to under 50 ms without it). Collect young objects far less often.
GC_THRESHOLDS = (50_000, 50, 100)


async def serve(settings: Settings) -> None:
    from realtime.uvicorn_ws import with_send_buffer
    from server.factory import create_app

    app = create_app(settings)
    gc.set_threshold(*GC_THRESHOLDS)
    gc.freeze()  # modules and the app live as long as the process: no collection need walk them
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        lifespan="on",
        # The Sans-I/O implementation waits while the socket's buffer is full, so a client that does
        # not read backs up into its own send queue (and is cut off) instead of into memory; it
        # keeps no tasks per socket, which halves the memory of an idle connection. The lean
        # subclass also drops what an idle socket never uses, and caps each socket's kernel send
        # buffer (realtime/uvicorn_ws.py).
        ws=with_send_buffer(settings.ws_socket_send_buffer_bytes),
        ws_ping_interval=settings.ws_ping_seconds,
        ws_ping_timeout=settings.ws_ping_seconds,
        ws_per_message_deflate=settings.ws_compression,
    )
    server = _Server(config, app.state.node)
    await server.serve()
    if not server.started:
        raise SystemExit(3)


async def worker(settings: Settings) -> None:
    """The worker role: transcoding jobs only, for deployments that keep them off the API."""
    from app.videos.service import VideoService
    from core.db import Database
    from core.redis_client import redis_client
    from migrations import runner
    from server import backends
    from server.factory import transcode_worker

    settings.require("database_url", "storage_url")
    storage = backends.storage(settings)
    assert storage is not None
    db = Database("main", settings.database_url)
    bus = backends.bus(settings)
    redis = redis_client(settings.redis_url) if settings.redis_url else None  # videos' change stamps
    await db.start(max_size=4)
    try:
        await runner.check(db.engine, db.name, db.url)
        await bus.start()
        # SIGTERM and SIGINT cancel the work at an await, so the job in hand is handed back; the
        # default exit would raise wherever the signal landed, perhaps inside the job's own task.
        loop, this = asyncio.get_running_loop(), asyncio.current_task()
        assert this is not None
        stopping = False  # set once the stop reached the loop below: from then on it cleans up

        def request_stop() -> None:
            # Python 3.11's wait_for can swallow a cancellation that lands as its awaitable
            # finishes (the worker polls PostgreSQL several times a second): until the stop is
            # seen, it is sent again.
            if not stopping and not this.done():
                this.cancel()
                loop.call_later(STOP_AGAIN_SECONDS, request_stop)

        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, request_stop)
        log.info("transcode worker started")
        beat = asyncio.create_task(heartbeat(db, settings.worker_heartbeat_file), name="worker-heartbeat")
        try:
            videos = VideoService(db, stamps=backends.change_stamps(settings, redis))
            jobs = transcode_worker(settings, db, storage, bus, videos)
            if settings.metrics and settings.metrics_port:
                jobs.observe = _worker_metrics(settings)
            await jobs.run()
        except asyncio.CancelledError:
            stopping = True
            this.uncancel()  # the stop is handled here: the clean-up below runs as usual
        finally:
            await stop_task(beat)
    finally:
        await bus.stop()
        if redis is not None:
            await redis.aclose()
        await storage.close()
        await db.stop()


def _worker_metrics(settings: Settings) -> Callable[[str, float], None]:
    """The worker's transcode durations on ``http://<host>:<metrics_port>/metrics`` (a thread
    of prometheus_client's; the worker has no HTTP server of its own)."""
    from prometheus_client import CollectorRegistry, start_http_server

    from server.metrics import transcode_histogram

    registry = CollectorRegistry(auto_describe=False)
    histogram = transcode_histogram(registry)
    start_http_server(settings.metrics_port, addr=settings.host, registry=registry)
    log.info("worker metrics on port %d", settings.metrics_port)
    return lambda outcome, seconds: histogram.labels(outcome).observe(seconds)


HEARTBEAT_SECONDS = 5.0
STOP_AGAIN_SECONDS = 1.0  # a worker told to stop that has not begun to is told again this often


async def heartbeat(db: Database, path: str) -> None:
    """Touch ``path`` each time PostgreSQL answers, for a liveness probe that checks its age."""
    if not path:
        return
    file = Path(path)
    while True:
        try:
            await db.ping()
        except Exception:  # an outage only stops the beat; the probe sees the file age
            log.warning("worker heartbeat: the database did not answer")
        else:
            await asyncio.to_thread(file.touch)
        await asyncio.sleep(HEARTBEAT_SECONDS)


def dev(settings: Settings) -> None:
    from server.embedded.stack import EmbeddedStack, StackBusy

    stack = EmbeddedStack(settings)
    log.info("starting the embedded stack", extra={"data_dir": str(stack.data_dir)})
    try:
        stack.start()
    except StackBusy as exc:
        print(f"mydrtv: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc
    try:
        configured = stack.configure(settings)
        log.info(
            "embedded stack up",
            extra={
                "postgres_pid": stack.postgres.process.pid if stack.postgres.process else None,
                "redis_pid": stack.redis.process.pid if stack.redis.process else None,
                "neo4j_pid": stack.neo4j.process.pid if stack.neo4j and stack.neo4j.process else None,
                "graph_url": configured.graph_url,
                "database_url": configured.database_url,
                "redis_url": configured.redis_url,
            },
        )

        async def run() -> None:
            await stack.create_databases()
            await migrate(configured)
            await seed_demo(configured)
            await seed_demo_media(configured)
            await serve(configured)

        asyncio.run(run())
    finally:
        stack.stop()
        log.info("embedded stack stopped")


async def create_admin(settings: Settings, email: str, handle: str, password: str) -> None:
    from app.accounts.schemas import Registration
    from app.accounts.service import AccountService
    from app.accounts.tables import TABLES as MAIN_TABLES
    from app.identity.store import IdentityStore
    from app.identity.tables import TABLES as IDENTITY_TABLES
    from core.db import Database
    from server.factory import keyring_of

    settings.require("privacy_master_key")
    main = Database("main", settings.database_url, MAIN_TABLES)
    identity = Database("identity", settings.identity_database_url, IDENTITY_TABLES)
    try:
        accounts = AccountService(
            IdentityStore(keyring_of(settings)),
            settings.minimum_age,
            policy_version=settings.privacy_policy_version,
        )
        user = await accounts.register(
            Registration(email=email, password=password, handle=handle), role="admin"
        )
    finally:
        await main.stop()
        await identity.stop()
    print(f"created admin @{user.handle} ({user.id})")


async def graph_command(settings: Settings, action: str) -> int:
    """``graph rebuild``: rebuild the graph from PostgreSQL; ``graph check``: compare the two;
    ``graph precompute``: one pass of the stored rankings (app/social/rankings.py)."""
    from app.social.rankings import PrecomputedRankings
    from core.db import Database
    from graph.rebuild import differences, rebuild
    from migrations import runner
    from server import backends

    if not settings.graph_url:  # like the databases, default to the embedded stack's server
        if settings.dev_graph == "neo4j":
            embedded = f"bolt://127.0.0.1:{settings.embedded_neo4j_port}"
        else:
            embedded = f"falkor://127.0.0.1:{settings.embedded_redis_port}"
        settings = msgspec.structs.replace(settings, graph_url=embedded)
    graph = backends.graph(settings)
    assert graph is not None
    db = Database("main", settings.database_url)
    try:
        await db.start(max_size=2)
        await runner.check(db.engine, db.name, db.url)
        if action == "rebuild":
            report = await rebuild(db, graph)
            print(msgspec.json.encode(report).decode())
            return 0
        if action == "precompute":
            passed = await PrecomputedRankings(
                db, graph, above_paths=settings.rankings_above_paths
            ).refresh_all()
            print(msgspec.json.encode(passed).decode())
            return 0
        found = await differences(db, graph)
        print(msgspec.json.encode({"consistent": not found, "differences": found}).decode())
        return 0 if not found else 1
    finally:
        await graph.close()
        await db.stop()


async def privacy_command(settings: Settings, action: str) -> int:
    """``privacy rotate-master-key``: rewrap every data key under the current master key;
    ``privacy retention``: run the retention purges once."""
    from app.identity.rotation import rotate_master_key
    from app.identity.tables import TABLES as IDENTITY_TABLES
    from core.db import Database
    from migrations import runner
    from server.factory import keyring_of

    if action == "retention":
        from server.retention import run_retention_once

        report = await run_retention_once(settings)
        print(msgspec.json.encode(report).decode())
        return 0
    settings.require("privacy_master_key")
    identity = Database("identity", settings.identity_database_url, IDENTITY_TABLES)
    try:
        await identity.start(max_size=2)
        await runner.check(identity.engine, identity.name, identity.url)
        rotation = await rotate_master_key(keyring_of(settings))
    finally:
        await identity.stop()
    print(msgspec.json.encode(rotation).decode())
    return 0 if rotation.left == 0 else 1


async def privacy_audit(settings: Settings, user_id: str) -> int:
    """``privacy audit USER_ID``: every store scanned for what is tied to the user; prints the
    findings per store (JSON), exit status 1 when there are any."""
    import uuid

    from server.privacy import Standalone

    try:
        subject = uuid.UUID(user_id)
    except ValueError:
        print(f"mydrtv: {user_id!r} is not a user id (a UUID)", file=sys.stderr)
        return 2
    stack = Standalone(settings)
    try:
        await stack.start()
        residue = await stack.registry.residue(subject)
    finally:
        await stack.stop()
    for store, findings in residue.items():
        print(f"{store}: {'none' if not findings else len(findings)}")
        for finding in findings:
            print(f"  {finding}")
    return 1 if any(residue.values()) else 0


async def privacy_replay(settings: Settings, since: str | None) -> int:
    """``privacy replay-erasures``: after a backup is restored, erase again every user that has
    an erasure receipt; prints what was found again (JSON), exit status 1 while some must wait
    for the outbox relay (run it again once the API's relay has published their events)."""
    from datetime import datetime

    from app.privacy.replay import replay_erasures
    from server.privacy import Standalone

    start = None
    if since is not None:
        try:
            start = datetime.fromisoformat(since)
        except ValueError:
            print(f"mydrtv: --since {since!r} is not an ISO 8601 time", file=sys.stderr)
            return 2
        if start.tzinfo is None:
            print("mydrtv: --since needs a time zone (e.g. 2026-12-01T03:00:00+00:00)", file=sys.stderr)
            return 2
    stack = Standalone(settings)
    try:
        await stack.start()
        report = await replay_erasures(stack.main, stack.registry, start)
    finally:
        await stack.stop()
    print(msgspec.json.encode(report).decode())
    return 1 if report.waiting else 0


async def privacy_worker(settings: Settings) -> None:
    """``privacy worker``: export and erasure jobs only, in a process of their own."""
    from server.privacy import Standalone

    stack = Standalone(settings)
    await stack.start()
    try:
        loop, this = asyncio.get_running_loop(), asyncio.current_task()
        assert this is not None
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, this.cancel)
        log.info("privacy worker started")
        try:
            await stack.worker.run()
        except asyncio.CancelledError:
            this.uncancel()
    finally:
        await stack.stop()


def openapi_document(settings: Settings) -> bytes:
    """The served OpenAPI document without a server or backends: the web client generates its
    types from it. Nothing connects while the app is only built, so placeholders do."""
    import tempfile

    from server import openapi
    from server.factory import create_app

    with tempfile.TemporaryDirectory(prefix="mydrtv-openapi-") as media:
        offline = msgspec.structs.replace(
            settings,
            database_url="postgresql://offline@127.0.0.1:1/main",
            identity_database_url="postgresql://offline@127.0.0.1:1/identity",
            redis_url="",
            graph_url="",
            storage_url=Path(media).as_uri(),  # media routes exist only with storage
            jwt_secret="offline" * 8,
            privacy_master_key=settings.privacy_master_key or "A" * 43 + "=",
            log_level="WARNING",
        )
        document = openapi.document(create_app(offline))
    return msgspec.json.format(msgspec.json.encode(document), indent=2) + b"\n"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mydrtv", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="serve the API on the configured backends")
    commands.add_parser("dev", help="start the embedded stack, migrate, and serve")
    commands.add_parser(
        "worker", help="run transcoding jobs (the API runs them too unless MYDRTV_MEDIA_WORKER=false)"
    )
    commands.add_parser("migrate", help="apply pending migrations to both databases")
    admin = commands.add_parser("create-admin", help="create an account with the admin role")
    admin.add_argument("--email", required=True)
    admin.add_argument("--handle", required=True)
    graph = commands.add_parser(
        "graph", help="the social graph projection: rebuild or check it; precompute the stored rankings"
    )
    graph.add_argument(
        "action",
        choices=["rebuild", "check", "precompute"],
        help=(
            "rebuild: empty the graph and load it from PostgreSQL; check: list where the two differ;"
            " precompute: one pass of the stored rankings"
        ),
    )
    privacy = commands.add_parser("privacy", help="privacy operations (docs/privacy.md)")
    privacy_actions = privacy.add_subparsers(dest="action", required=True)
    privacy_actions.add_parser(
        "rotate-master-key",
        help="rewrap every data key under MYDRTV_PRIVACY_MASTER_KEY, the old key given in"
        " MYDRTV_PRIVACY_OLD_MASTER_KEYS; exits 1 while keys are left under another key",
    )
    privacy_actions.add_parser("new-key", help="print a fresh master key")
    privacy_actions.add_parser("retention", help="run the retention purges once and print what went")
    audit = privacy_actions.add_parser("audit", help="print what every store still holds of a user")
    audit.add_argument("user_id")
    privacy_actions.add_parser("worker", help="run export and erasure jobs (the API runs them too)")
    replay = privacy_actions.add_parser(
        "replay-erasures",
        help="after restoring a backup: erase again every user with an erasure receipt; exits 1"
        " while some wait for the outbox relay",
    )
    replay.add_argument(
        "--since",
        help="only receipts of erasures at or after this ISO 8601 time (the oldest backup restored)",
    )
    commands.add_parser("openapi", help="print the OpenAPI document (no server or backends needed)")
    return parser


def _exit_on_sigterm() -> None:
    """Turn SIGTERM into a normal exit, so ``finally`` blocks stop the child servers."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        logs.configure(settings.log_level)
        _exit_on_sigterm()
        if args.command == "serve":
            asyncio.run(serve(settings))
        elif args.command == "dev":
            dev(settings)
        elif args.command == "worker":
            asyncio.run(worker(settings))
        elif args.command == "migrate":
            asyncio.run(migrate(_with_embedded_identity(settings)))
        elif args.command == "create-admin":
            password = os.environ.get("MYDRTV_ADMIN_PASSWORD") or getpass.getpass("password: ")
            asyncio.run(create_admin(_with_embedded_identity(settings), args.email, args.handle, password))
        elif args.command == "openapi":
            sys.stdout.buffer.write(openapi_document(settings))
        elif args.command == "graph":
            return asyncio.run(graph_command(_with_embedded_urls(settings), args.action))
        elif args.command == "privacy" and args.action == "new-key":
            from app.identity.crypto import new_master_key

            print(new_master_key())
        elif args.command == "privacy" and args.action == "audit":
            return asyncio.run(privacy_audit(_with_embedded_urls(settings), args.user_id))
        elif args.command == "privacy" and args.action == "replay-erasures":
            return asyncio.run(privacy_replay(_with_embedded_identity(settings), args.since))
        elif args.command == "privacy" and args.action == "worker":
            asyncio.run(privacy_worker(_with_embedded_identity(settings)))
        elif args.command == "privacy":
            return asyncio.run(privacy_command(_with_embedded_identity(settings), args.action))
    except KeyboardInterrupt:
        return 0
    except (SettingsError, DomainError, NotMigrated, GraphUnavailable, CryptoError) as exc:
        print(f"mydrtv: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

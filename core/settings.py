"""Settings: one typed object, built once from ``MYDRTV_*`` environment variables.

Domain code never reads the environment; ``create_app`` receives a ``Settings``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, Literal

import msgspec

ENV_PREFIX = "MYDRTV_"


class SettingsError(Exception):
    """A setting is missing or malformed; the message names the variable."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    host: str = "127.0.0.1"
    port: int = 8000
    # Backends, each chosen by URL.
    database_url: str = ""
    identity_database_url: str = ""
    redis_url: str = ""  # redis://, redis+sentinel:// or redis+cluster://; empty: in-process memory
    graph_url: str = ""  # falkor://, redis:// (FalkorDB) or bolt://, neo4j:// (Neo4j); empty: none
    storage_url: str = ""  # file:///path or s3://bucket/prefix?endpoint_url=...; empty: no media
    redis_namespace: str = "mydrtv"  # prefix of every Redis key this deployment writes
    # Seconds the app waits on PostgreSQL to connect, lend a pooled connection or run a statement:
    # a hung server answers 503 within about twice this. Migrations and the CLI wait for ever.
    database_timeout_seconds: float = 5.0
    # Auth.
    jwt_secret: str = ""
    jwt_issuer: str = "mydrtv"
    access_token_seconds: int = 900
    refresh_token_seconds: int = 30 * 24 * 3600
    # A spent refresh token presented again this soon gets a fresh token of its login instead of
    # ending it as stolen: a page reloaded mid-refresh never saw its new token. 0: no grace.
    refresh_reuse_grace_seconds: float = 10.0
    login_limit_per_account: str = "5/minute"
    login_limit_per_address: str = "30/minute"
    register_limit_per_address: str = "20/hour"  # registrations per client address (argon2 is costly)
    minimum_age: int = 13
    # Privacy (docs/privacy.md). Personal fields are sealed under per-user data keys wrapped by this
    # key: 32 random bytes in URL-safe base64 (``mydrtv privacy new-key``). Required by ``serve``;
    # the embedded stack keeps one in its data directory.
    privacy_master_key: str = ""
    # Comma-separated master keys still accepted while ``mydrtv privacy rotate-master-key`` moves
    # every data key to the current one; empty once a rotation is done.
    privacy_old_master_keys: str = ""
    privacy_policy_version: str = "1"  # the privacy policy in force, recorded with each consent decision
    watch_retention_days: int = 365  # watch history older than this is purged; 0: kept for ever
    retention_interval_seconds: float = 3600.0  # how often the retention job runs
    # Realtime gateway and bus.
    ws_connect_timeout: float = 10.0  # seconds for a new socket to send its connect message
    ws_max_message_bytes: int = 64 * 1024
    ws_max_subscriptions: int = 100  # per connection
    ws_message_rate: str = "50/second"  # inbound messages per user (per connection when anonymous)
    ws_ping_seconds: float = 20.0  # protocol-level pings; no pong within this drops the socket
    # permessage-deflate compresses each frame once per socket, not once per message: off, fan-out
    # costs a third less CPU and every socket saves its compressor's memory.
    ws_compression: bool = False
    ws_send_queue: int = 1024  # frames queued for one socket before it counts as a slow consumer
    # Bytes waiting for one socket (queued frames and the transport's buffer) past which a frame
    # more cuts it off as a slow consumer (4008); the kernel's socket buffers come on top.
    ws_send_buffer_bytes: int = 1024 * 1024
    # The kernel's send buffer of each websocket (SO_SNDBUF; Linux doubles it): capped, so that what
    # a client that stops reading costs is bounded, not up to the kernel (megabytes). 0: the kernel's.
    ws_socket_send_buffer_bytes: int = 64 * 1024
    # Write coalescing: once a socket write went out less than this long ago, the next waits until
    # this long after it, so under load the frames of several events share one write per socket
    # (a write costs about as much for one frame as for several); idle, frames go out at once.
    # Replies to a socket's own requests never wait. 0: every loop iteration writes.
    ws_write_coalesce_ms: Annotated[float, msgspec.Meta(ge=0)] = 20.0
    bus_history_size: int = 1000  # publications kept per channel for recovery
    bus_history_seconds: int = 600  # and for how long after a channel's last publication
    presence_ttl_seconds: float = 30.0  # a crashed instance's presence entries vanish after this
    # Join/leave events of a channel stop while a gateway has more subscribers on it than this
    # (0: never stop). Each costs a frame per subscriber: N viewers joining cost N²/2 frames.
    presence_announce_max: int = 0
    outbox_relay: bool = True  # run the outbox relay in this process (one leads at a time)
    # Watch parties.
    party_max_members: int = 50
    party_start_lead_ms: float = 500.0  # least lead of play, seek, video change: players pre-roll
    party_quick_lead_ms: float = 150.0  # least lead of pause and rate changes
    party_max_lead_ms: float = 5000.0  # most lead, however slow the slowest member's round trip
    party_state_ttl_seconds: int = 7 * 24 * 3600  # a party's live state unchanged this long is dropped
    # Comments, ratings and moderation.
    comment_max_chars: int = 2000
    comment_edit_seconds: int = 900  # how long after posting its author may edit a comment
    comment_rate: str = "10/minute"  # comments and edits per user, across instances
    rating_rate: str = "30/minute"  # rating changes per user
    report_rate: str = "20/hour"  # comment reports per user
    rating_events_per_second: float = 4.0  # live rating updates per video, at most
    # Social graph: follows, people you may know, recommendations, the activity feed.
    graph_name: str = "mydrtv"  # FalkorDB: the graph's key (Neo4j: the database is the URL's path)
    suggestions_cache_seconds: float = 60.0  # people-you-may-know rankings are kept this long per user
    popular_videos_cache_seconds: float = 30.0  # the popular-videos fallback is shared this long
    # Stored exact rankings (app/social/rankings.py): recomputed once this old (their own changes
    # recompute theirs at once, others' activity marks them stale for the sweep), by jobs beside
    # the outbox relay that work while it leads; false everywhere: run ``mydrtv graph precompute``.
    # Stored for users with more friend-of-friend paths than ``rankings_above_paths``: -1, everyone
    # who follows someone; 300, heavy users only.
    rankings_worker: bool = True
    rankings_refresh_seconds: float = 3600.0
    rankings_above_paths: Annotated[int, msgspec.Meta(ge=-1)] = -1
    # Media: uploads, transcoding, serving.
    media_max_upload_bytes: int = 4 * 1024**3
    media_worker: bool = True  # run the transcoding worker in this process (``mydrtv worker`` runs one alone)
    media_redirect: bool = False  # S3: answer segment and poster requests with presigned S3 URLs
    # Filesystem storage behind nginx: the path of an nginx ``internal`` location whose alias is the
    # storage's root. Media requests are then authorized here and answered with X-Accel-Redirect,
    # and nginx sends the bytes (ranges, validators). Empty: this server sends them (docs/operations.md).
    media_accel_redirect: str = ""
    media_signed_url_seconds: int = 4 * 3600  # how long a private video's signed media URLs work
    # Behind nginx: playback hands out links nginx's secure_link module checks itself, so no file
    # request reaches a server (deploy/nginx/mydrtv.conf holds the same secret). Empty: off.
    media_secure_link_secret: str = ""
    # How long such a link works: the most a video made private is still served (docs/operations.md).
    media_secure_link_seconds: int = 300
    media_spool_dir: str = ""  # where uploads are spooled before storage; empty: the system's temp dir
    media_work_dir: str = ""  # where the worker transcodes; empty: the system's temp dir
    s3_part_bytes: int = 8 * 1024**2  # multipart upload part size (S3 wants at least 5 MiB)
    transcode_preset: str = "veryfast"  # x264 preset: speed against size
    transcode_segment_seconds: int = 4
    transcode_lease_seconds: float = 60.0  # a worker silent this long has died: its job is retried
    transcode_max_attempts: int = 3
    transcode_poll_seconds: float = 5.0  # how often an idle worker looks for jobs whose lease ran out
    # ``mydrtv worker`` touches this file every few seconds while PostgreSQL answers it, so an
    # orchestrator's liveness probe can tell a live worker from a stuck one. Empty: no file.
    worker_heartbeat_file: str = ""
    # HTTP: browsers.
    privacy_erasure_grace_days: float = 30.0  # DELETE /me waits this long; a sign-in meanwhile cancels
    privacy_export_retention_seconds: int = 7 * 24 * 3600  # an export archive is kept this long
    privacy_export_link_seconds: int = 3600  # how long a signed download link works
    privacy_worker: bool = True  # run export and erasure jobs here (``mydrtv privacy worker``: alone)
    privacy_lease_seconds: float = 60.0  # a privacy worker silent this long has died: job claimed again
    privacy_poll_seconds: float = 5.0  # how often an idle privacy worker looks for due jobs
    cors_origins: str = ""  # origins a browser client may call the API from (comma-separated); empty: none
    web_dist_dir: str = ""  # the built web client served at /; empty: the checkout's web/dist
    served_over_tls: bool = False  # reached over HTTPS only (directly or via a proxy): send HSTS
    # Operations.
    metrics: bool = False  # serve Prometheus metrics at GET /metrics
    metrics_token: str = ""  # when set, /metrics wants "Authorization: Bearer <token>"
    metrics_port: int = 0  # `mydrtv worker`: serve its metrics on this port (0: none); needs metrics on
    otlp_endpoint: str = ""  # an OTLP/HTTP collector (http://host:4318): traces exported there; empty: off
    otlp_service_name: str = "mydrtv"  # the traces' service.name
    log_level: str = "INFO"
    data_dir: str = ".data"  # where the embedded stack keeps its servers' data
    embedded_postgres_port: int = 54329
    embedded_redis_port: int = 56379
    # The graph `mydrtv dev` runs: FalkorDB inside its Redis, or Neo4j (needs Java 17 and Maven).
    dev_graph: Literal["falkordb", "neo4j"] = "falkordb"
    embedded_neo4j_port: int = 57687

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read every field from ``MYDRTV_<FIELD>``; absent variables keep their defaults."""
        env = os.environ if environ is None else environ
        raw = {
            name: env[ENV_PREFIX + name.upper()]
            for name in cls.__struct_fields__
            if ENV_PREFIX + name.upper() in env
        }
        try:
            return msgspec.convert(raw, cls, strict=False)
        except msgspec.ValidationError as exc:
            raise SettingsError(f"invalid setting: {exc} (variables are {ENV_PREFIX}<FIELD>)") from exc

    def require(self, *names: str) -> None:
        """Fail early, naming the variable, when a setting a role needs is empty."""
        missing = [ENV_PREFIX + n.upper() for n in names if not getattr(self, n)]
        if missing:
            raise SettingsError("missing required setting(s): " + ", ".join(missing))

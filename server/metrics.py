"""Prometheus metrics at ``GET /metrics``, when ``MYDRTV_METRICS`` is on.

The fan-out keeps plain running totals (``Node.delivered``, ``CutOffs.total``, ``Relay.relayed``)
and this module reads them, and the sockets' queues, only when Prometheus scrapes: the hot path
pays one integer addition per publication and nothing per socket write. What lives in PostgreSQL
(the transcode queue, the outbox backlog) is read at scrape time too, at most once per
``STORED_SECONDS``, so many scrapers cost the database one query each per interval.
Histograms (HTTP, graph queries, transcodes) are observed where the work ends.
docs/operations.md lists every series and what to alert on.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Iterable
from typing import Any

from litestar import Request, Response, get
from litestar.enums import ScopeType
from litestar.handlers import HTTPRouteHandler
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from core.db import Database
from core.errors import Unauthorized
from realtime.connection import CutOffs
from realtime.node import Node
from realtime.outbox import Relay, backlog

STORED_SECONDS = 5.0  # how long values read from PostgreSQL are served before being read again
SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
TRANSCODE_SECONDS = (1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)


def transcode_histogram(registry: CollectorRegistry) -> Histogram:
    return Histogram(
        "mydrtv_transcode_duration_seconds",
        "Transcode jobs by outcome (ready, failed, retried, dropped, released), from claim to end.",
        ["outcome"],
        buckets=TRANSCODE_SECONDS,
        registry=registry,
    )


class Stored:
    """Values read from PostgreSQL for the scrape, kept ``STORED_SECONDS``."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._read_at = float("-inf")
        self.jobs: dict[str, int] = {"queued": 0, "running": 0}
        self.outbox_rows = 0
        self.outbox_lag_seconds = 0.0
        self.up = True

    async def refresh(self) -> None:
        if time.monotonic() - self._read_at < STORED_SECONDS:
            return
        self._read_at = time.monotonic()
        try:
            rows = await self._db.fetch(
                "SELECT state, count(*) AS n FROM transcode_jobs WHERE state IN ('queued', 'running')"
                " GROUP BY state"
            )
            waiting = await backlog(self._db)
        except Exception:  # the database is away: the scrape still answers, saying so
            self.up = False
            return
        self.up = True
        self.jobs = {"queued": 0, "running": 0} | {row["state"]: int(row["n"]) for row in rows}
        self.outbox_rows = waiting.rows
        self.outbox_lag_seconds = waiting.oldest_seconds


class Live(Collector):
    """The node's sockets, subscriptions, queues and totals, and the relay's, read per scrape."""

    def __init__(self, node: Node, relay: Relay | None, stored: Stored) -> None:
        self._node = node
        self._relay = relay
        self._stored = stored

    def collect(self) -> Iterable[Metric]:
        node = self._node
        yield GaugeMetricFamily(
            "mydrtv_websocket_connections", "Websockets connected to this process.", len(node.connections)
        )
        subscriptions = GaugeMetricFamily(
            "mydrtv_subscriptions", "Channel subscriptions on this process by kind.", labels=["kind"]
        )
        kinds = {"video": 0, "party": 0, "user": 0} | node.subscriptions_by_kind()
        for kind, count in sorted(kinds.items()):
            subscriptions.add_metric([kind], count)
        yield subscriptions
        yield CounterMetricFamily(
            "mydrtv_deliveries", "Publications handed to subscribed sockets.", node.delivered
        )
        frames, held = node.waiting()
        yield GaugeMetricFamily(
            "mydrtv_send_queue_frames", "Frames waiting in this process's send queues.", frames
        )
        yield GaugeMetricFamily(
            "mydrtv_send_queue_bytes",
            "Bytes waiting for clients in this process (send queues and transports).",
            held,
        )
        yield CounterMetricFamily(
            "mydrtv_slow_consumer_cuts", "Clients disconnected with 4008 (slow consumer).", CutOffs.total
        )
        recoveries = CounterMetricFamily(
            "mydrtv_recoveries",
            "Subscribes that asked to recover: hit (history served) or miss (recovered: false).",
            labels=["result"],
        )
        recoveries.add_metric(["hit"], node.recoveries)
        recoveries.add_metric(["miss"], node.recovery_misses)
        yield recoveries
        stored = self._stored
        yield GaugeMetricFamily(
            "mydrtv_database_scrape_up", "Whether the last scrape could read PostgreSQL.", int(stored.up)
        )
        jobs = GaugeMetricFamily("mydrtv_transcode_jobs", "Transcode jobs by state.", labels=["state"])
        for state, count in sorted(stored.jobs.items()):
            jobs.add_metric([state], count)
        yield jobs
        yield GaugeMetricFamily(
            "mydrtv_outbox_backlog_rows",
            "Outbox rows for live channels not yet published.",
            stored.outbox_rows,
        )
        yield GaugeMetricFamily(
            "mydrtv_outbox_lag_seconds",
            "How long the oldest unpublished outbox row has waited.",
            stored.outbox_lag_seconds,
        )
        if self._relay is not None:
            yield CounterMetricFamily(
                "mydrtv_outbox_relayed", "Outbox rows this process's relay published.", self._relay.relayed
            )
            yield GaugeMetricFamily(
                "mydrtv_outbox_relay_leading", "Whether this process's relay leads.", int(self._relay.leading)
            )


class Metrics:
    """This app's registry: its own, so that apps built side by side (tests) do not share one."""

    def __init__(self, db: Database, node: Node, relay: Relay | None) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.stored = Stored(db)
        self.registry.register(Live(node, relay, self.stored))
        self.http = Histogram(
            "mydrtv_http_request_duration_seconds",
            "HTTP requests by method, route template and status.",
            ["method", "route", "status"],
            buckets=SECONDS,
            registry=self.registry,
        )
        self.graph = Histogram(
            "mydrtv_graph_query_duration_seconds",
            "Graph queries by catalog name and outcome (ok, error).",
            ["query", "outcome"],
            buckets=SECONDS,
            registry=self.registry,
        )
        self.transcode = transcode_histogram(self.registry)

    def graph_query(self, name: str, seconds: float, ok: bool) -> None:
        self.graph.labels(name, "ok" if ok else "error").observe(seconds)

    def transcoded(self, outcome: str, seconds: float) -> None:
        self.transcode.labels(outcome).observe(seconds)

    async def render(self) -> bytes:
        await self.stored.refresh()
        return generate_latest(self.registry)

    def middleware(self, app: ASGIApp) -> ASGIApp:
        """Times HTTP requests (after routing, so the route is its template: no label per id)."""
        histogram = self.http

        async def timed(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP:
                await app(scope, receive, send)
                return
            started = time.perf_counter()
            status = 500  # what the client gets if the app fails before answering

            async def sending(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                await send(message)

            try:
                await app(scope, receive, sending)
            finally:
                route = scope.get("path_template") or "unmatched"
                histogram.labels(scope.get("method", ""), route, str(status)).observe(
                    time.perf_counter() - started
                )

        return timed


def metrics_route(metrics: Metrics, token: str) -> HTTPRouteHandler:
    """``GET /metrics``; with ``token`` set, only for ``Authorization: Bearer <token>``."""
    expected = f"Bearer {token}".encode()

    @get("/metrics", include_in_schema=False)
    async def scrape(request: Request[Any, Any, Any]) -> Response[bytes]:
        if token and not hmac.compare_digest(request.headers.get("authorization", "").encode(), expected):
            raise Unauthorized("metrics need the bearer token of MYDRTV_METRICS_TOKEN")
        return Response(await metrics.render(), media_type=CONTENT_TYPE_LATEST)

    return scrape

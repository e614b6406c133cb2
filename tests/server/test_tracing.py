"""Traces over OTLP/HTTP: a real `mydrtv serve` exports to a small OTLP receiver run here, and a
request's server span holds a child span for each SQL statement it ran."""

from __future__ import annotations

import asyncio
import gzip
import subprocess
import sys
import threading
from collections.abc import AsyncIterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import msgspec
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from core.settings import Settings
from tests.processes import ServerProcess
from tests.users import person


class Receiver:
    """An OTLP/HTTP trace receiver (protobuf over POST /v1/traces) on a loopback port."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.spans: list[Span] = []
        self.services: set[str] = set()
        self.arrived = asyncio.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                request = ExportTraceServiceRequest.FromString(body)
                spans = []
                for resource in request.resource_spans:
                    for attribute in resource.resource.attributes:
                        if attribute.key == "service.name":
                            receiver.services.add(attribute.value.string_value)
                    for scope in resource.scope_spans:
                        spans.extend(scope.spans)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()
                loop.call_soon_threadsafe(receiver._add, spans)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _add(self, spans: list[Span]) -> None:
        self.spans.extend(spans)
        self.arrived.set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    server = Receiver(asyncio.get_running_loop())
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


def attributes(span: Span) -> dict[str, str]:
    return {a.key: a.value.string_value for a in span.attributes}


async def test_a_request_exports_a_server_span_with_its_sql_as_children(
    settings: Settings, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "50")  # export within 50 ms, not the default 5 s
    traced = msgspec.structs.replace(settings, otlp_endpoint=receiver.url, otlp_service_name="mydrtv-test")
    server = ServerProcess(traced)
    await server.start()
    try:
        owner = await person(traced)
        async with httpx.AsyncClient(base_url=server.http_url, timeout=10) as api:
            created = await api.post("/videos", json={"title": "traced"}, headers=owner.headers)
            assert created.status_code == 201, created.text
            video = created.json()["id"]
            assert (await api.get(f"/videos/{video}")).status_code == 200

        def read_span() -> Span | None:
            return next(
                (
                    s
                    for s in receiver.spans
                    if s.kind == Span.SPAN_KIND_SERVER and s.name == "GET /videos/{video_id}"
                ),
                None,
            )

        while (request := read_span()) is None:
            receiver.arrived.clear()
            await asyncio.wait_for(receiver.arrived.wait(), 10)
        assert video not in request.name  # named by the route template, not the path

        def children() -> list[Span]:
            return [
                s
                for s in receiver.spans
                if s.trace_id == request.trace_id and s.parent_span_id == request.span_id
            ]

        # The SQL spans end before the server span, so they were exported with it or before.
        sql = [s for s in children() if attributes(s).get("db.system") == "postgresql"]
        assert sql, [(s.name, attributes(s)) for s in children()]
        assert all(request.start_time_unix_nano <= s.start_time_unix_nano for s in sql)
        assert all(s.end_time_unix_nano <= request.end_time_unix_nano for s in sql)
        assert "mydrtv-test" in receiver.services
    finally:
        assert await server.stop() == 0


def test_without_a_collector_nothing_is_patched_or_wrapped() -> None:
    """Off by default at no cost: no tracer provider, no driver patched, no middleware. (redis-py
    and Litestar import parts of OpenTelemetry on their own once it is installed; they use none.)"""
    script = (
        "import asyncpg, redis.asyncio\n"
        "from opentelemetry import trace\n"
        "from app.identity.crypto import new_master_key\n"
        "from core.settings import Settings\n"
        "from server.factory import create_app\n"
        "app = create_app(Settings(database_url='postgresql://x@127.0.0.1:1/m',"
        " identity_database_url='postgresql://x@127.0.0.1:1/i', jwt_secret='x' * 40,"
        " privacy_master_key=new_master_key(), otlp_endpoint=%r))\n"
        "print(hasattr(asyncpg.Connection.fetch, '__wrapped__'),"
        " hasattr(redis.asyncio.Redis.execute_command, '__wrapped__'),"
        " type(trace.get_tracer_provider()).__name__, len(app.middleware))\n"
    )

    def loaded(endpoint: str) -> str:
        return subprocess.run(
            [sys.executable, "-c", script % endpoint], capture_output=True, text=True, timeout=120, check=True
        ).stdout.strip()

    assert loaded("") == "False False ProxyTracerProvider 0"
    # The same probe sees tracing when it is on: the check can fail.
    assert loaded("http://127.0.0.1:1") == "True True ProxyTracerProvider 1"

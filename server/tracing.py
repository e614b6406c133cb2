"""OpenTelemetry traces, exported over OTLP/HTTP when ``MYDRTV_OTLP_ENDPOINT`` names a collector.

Off by default, and then nothing is imported, patched or wrapped: no cost at all. On, each HTTP
request gets a server span (named by its route template) with a child span for every SQL
statement (asyncpg) and Redis command it runs. Websockets are left out: a span as long as a
socket's life says nothing, and the fan-out must not pay for one per frame.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from core.settings import Settings

Middleware = Callable[[ASGIApp], ASGIApp]


def _span_details(scope: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """``GET /api/videos/{video_id:uuid}``: the route, not the path (no span name per id)."""
    route = scope.get("path_template") or scope.get("path", "")
    return f"{scope.get('method', 'HTTP')} {route}", {"http.route": route}


def install(settings: Settings) -> tuple[Middleware, Callable[[], Coroutine[Any, Any, None]]] | None:
    """Set tracing up when a collector is named: the ASGI middleware and a closer that flushes
    what is still buffered; None when tracing is off."""
    if not settings.otlp_endpoint:
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": settings.otlp_service_name}))
    endpoint = settings.otlp_endpoint.rstrip("/") + "/v1/traces"
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    # The instrumentors patch the drivers for the whole process (one app per server process).
    AsyncPGInstrumentor().instrument(  # type: ignore[no-untyped-call]
        tracer_provider=provider
    )
    RedisInstrumentor().instrument(tracer_provider=provider)

    def middleware(app: ASGIApp) -> ASGIApp:
        traced = OpenTelemetryMiddleware(
            app,
            tracer_provider=provider,
            default_span_details=_span_details,
            exclude_spans=["receive", "send"],
        )

        async def http_only(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == ScopeType.HTTP:
                await traced(scope, receive, send)  # type: ignore[arg-type]
            else:
                await app(scope, receive, send)

        return http_only

    async def close() -> None:
        provider.shutdown()  # exports what the batch still holds

    return middleware, close

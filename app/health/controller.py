"""``/health/live`` (the process answers) and ``/health/ready`` (every backend answers)."""

from __future__ import annotations

import asyncio

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency

from app.health.probes import Probe
from core.errors import ServiceUnavailable

PROBE_TIMEOUT = 3.0


class Readiness(msgspec.Struct):
    status: str
    backends: dict[str, str]


async def _run(probe: Probe) -> str:
    try:
        await asyncio.wait_for(probe(), PROBE_TIMEOUT)
    except Exception as exc:
        return f"down: {type(exc).__name__}: {exc}".rstrip(": ")
    return "up"


class HealthController(Controller):
    path = "/health"
    tags = ("health",)

    @get("/live")
    async def live(self) -> dict[str, str]:
        return {"status": "live"}

    @get("/ready")
    async def ready(self, probes: NamedDependency[dict[str, Probe]]) -> Readiness:
        results = await asyncio.gather(*(_run(p) for p in probes.values()))
        backends = dict(zip(probes, results, strict=True))
        down = [name for name, state in backends.items() if state != "up"]
        if down:
            raise ServiceUnavailable(
                f"backend(s) down: {', '.join(down)}",
                code="not_ready",
                details={"backends": backends},
            )
        return Readiness(status="ready", backends=backends)

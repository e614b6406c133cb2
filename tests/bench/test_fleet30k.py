"""``bench.fleet30k``'s own code at a tiny scale, so that the 30 000-client benchmark keeps working:
3 gateways behind 2 HAProxy processes sharing one port, 60 signed-in clients in 2 client
processes, all on one channel; every client receives every publication."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from bench.fleet30k import Plan, fleet
from core.settings import Settings
from support.haproxy import haproxy_binary

pytestmark = pytest.mark.skipif(
    haproxy_binary() is None, reason="haproxy is missing: apt-get install haproxy"
)


async def test_every_client_behind_the_balancers_gets_every_publication(
    settings: Settings, tmp_path: Path
) -> None:
    media = tmp_path / "media"
    media.mkdir()
    plan = Plan(
        clients=60, balancers=2, client_processes=2, parallel=10,
        rates=[5.0], seconds=1.0, burst=5, within=20.0, announce_max=5,
    )  # fmt: skip
    result = await fleet(msgspec.structs.replace(settings, storage_url=media.as_uri()), plan, tmp_path)

    for name in ("rate_5", "burst"):
        phase = result["phases"][name]
        assert phase["expected"] == phase["publications"] * 60
        assert phase["deliveries"] == phase["expected"] and phase["lost"] == 0, phase
        assert phase["clients_with_every_message"] == 60 and phase["sockets_closed"] == 0, phase
    # Both balancers took clients (the kernel spreads the port's connections), and each passed
    # them to every gateway (least connections).
    assert all(sessions > 0 for sessions in result["sessions_per_balancer"]), result
    assert all(sockets >= 10 for sockets in result["sockets_per_gateway"]), result
    assert result["load_average_start"] and result["load_average_end"]
    assert result["servers_taken_out"] == [], result["servers_taken_out"]

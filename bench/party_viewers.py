"""A benchmark worker: party viewers (reference clients with simulated players) in one process.

    python -m bench.party_viewers    (then one JSON line of configuration on stdin)

Configuration: ``{"policy": "mydrtv"|"syncplay"|"naive", "party": id, "urls": [...],
"tokens": [...], "seed": n}``. Each viewer gets a clock off by up to ±10 s that runs up to
±100 ppm fast or slow, a network leg of 20-150 ms jittered one-way latency each way, and a
player whose media clock is up to ±0.1 % off and that takes 5-40 ms to start and 50-300 ms to
seek. The first viewer is the party's host and sends the commands.

It prints ``{"ready": n}``, then answers lines on stdin, one JSON line each:

- ``command {"action": ..., ...}``: the host sends it; answers the true time it was sent and the
  resulting state;
- ``report``: every viewer's player history (``segments``), learned latencies and clock error;
- ``quit``.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
from dataclasses import dataclass
from typing import Any

import msgspec

from app.parties.drift import MYDRTV, SYNCPLAY
from clients.party import PartyClient
from clients.simulation import LaggySocket, SimulatedPlayer, SkewedClock, Traits, true_ms
from clients.websocket import Client
from realtime.clock import ClockFilter

MAX_OFFSET_MS = 10_000.0
CLOCK_SKEW = 1e-4
MEDIA_SKEW = 1e-3
ONE_WAY_MS = (20.0, 150.0)


class Config(msgspec.Struct):
    policy: str
    party: str
    urls: list[str]
    tokens: list[str]
    seed: int
    first: int  # the index of this worker's first viewer among all viewers (0: it has the host)


@dataclass
class Viewer:
    member: PartyClient
    player: SimulatedPlayer
    clock: SkewedClock


async def open_viewer(config: Config, index: int) -> Viewer:
    """The ``index``-th viewer of this worker; its randomness depends on its global index only."""
    rng = random.Random(config.seed * 1000 + config.first + index)
    clock = SkewedClock(rng.uniform(-MAX_OFFSET_MS, MAX_OFFSET_MS), rng.uniform(-CLOCK_SKEW, CLOCK_SKEW))
    network = random.Random(rng.random())

    def wrap(socket: Any) -> LaggySocket:
        return LaggySocket(socket, lambda: network.uniform(*ONE_WAY_MS))

    url = config.urls[(config.first + index) % len(config.urls)]
    client, _ = await Client.connect(url, config.tokens[index], wrap=wrap)
    player = SimulatedPlayer(Traits(skew=rng.uniform(-MEDIA_SKEW, MEDIA_SKEW)), random.Random(rng.random()))
    if config.policy == "naive":
        member = PartyClient(client, config.party, player, local_ms=clock, follow="naive")
    elif config.policy == "syncplay":
        member = PartyClient(
            client,
            config.party,
            player,
            policy=SYNCPLAY,
            clock=ClockFilter(window=8, bounds=False),
            local_ms=clock,
        )
    else:
        member = PartyClient(client, config.party, player, policy=MYDRTV, local_ms=clock)
    await member.start()
    return Viewer(member, player, clock)


def report(viewer: Viewer) -> dict[str, Any]:
    estimate = viewer.member.clock.offset
    truth = true_ms() - viewer.clock()  # server clock (true time here) minus the viewer's clock
    return {
        "segments": [[s.start, s.position, s.speed] for s in viewer.player.segments],
        "start_latency_ms": viewer.member.start_latency_ms,
        "seek_latency_ms": viewer.member.seek_latency_ms,
        "clock_error_ms": None if estimate is None else estimate - truth,
        "failures": viewer.member.failures(),
    }


async def main() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    config = msgspec.json.decode(await reader.readline(), type=Config)
    viewers = list(await asyncio.gather(*(open_viewer(config, n) for n in range(len(config.tokens)))))
    print(json.dumps({"ready": len(viewers)}), flush=True)
    host = viewers[0].member
    while line := (await reader.readline()).decode().strip():
        verb, _, rest = line.partition(" ")
        if verb == "command":
            fields = json.loads(rest)
            issued = true_ms()
            state = await host.command(fields.pop("action"), **fields)
            print(json.dumps({"issued_ms": issued, "state": msgspec.to_builtins(state)}), flush=True)
        elif verb == "report":
            print(json.dumps({"viewers": [report(v) for v in viewers]}), flush=True)
        elif verb == "quit":
            break
    for viewer in viewers:
        await viewer.member.stop()
        await viewer.member.client.close()


if __name__ == "__main__":
    asyncio.run(main())

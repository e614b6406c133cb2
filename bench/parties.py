"""Watch-party sync: how far apart 20 viewers' players are after each command, with our clock sync
and drift policy, beside SyncPlay's policy and a naive client in the same run.

    python -m bench.parties [--viewers 20] [--processes 2] [--instances 2] [--rounds 1]

Viewers are reference party clients (``clients/party.py``) driving simulated players
(``clients/simulation.py``), spread over ``--processes`` worker processes
(``bench/party_viewers.py``) and over ``--instances`` gateway processes sharing one Redis. Each has
a clock up to ±10 s off (and ±100 ppm fast or slow), 20-150 ms of jittered one-way latency each
way, and a player that takes 5-40 ms to start and 50-300 ms to seek, with a media clock up to
±0.1 % off. The host goes through play, seek, rate changes, pause, a paused seek and play again.

Policies, each with the same seeds:

- ``mydrtv``: clock from the intersection of NTP bounds over 32 exchanges, drift by rate from
  10 ms (down to 3 ms), seek from 250 ms, start and seek latency compensation;
- ``syncplay``: Jellyfin SyncPlay's client policy: min-delay of 8 exchanges, speed-to-sync from
  60 ms, skip-to-sync from 400 ms, no compensation;
- ``naive``: no clock sync, no drift correction: each state is applied as it arrives.

After each command, from the time it takes effect until the next command, every player's exact
position is evaluated every 20 ms from its recorded history. Reported: the position error between
viewers (every pair, every instant: p50/p95/max), each viewer's error against the schedule, and the
time to converge (from the command's issue until the viewers stay within 30 ms of each other).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import uuid
from itertools import combinations
from typing import Any

import asyncpg
import httpx
import msgspec

from app.parties.state import Playback
from bench.harness import embedded_settings, gateways, percentile, read_line, run_worker, tell, write_results
from clients.simulation import Segment, position_at
from core.tokens import AccessTokens, Principal

POLICIES = ("mydrtv", "syncplay", "naive")
CONVERGED_MS = 30.0
SAMPLE_MS = 20.0
# (command, hold seconds): what the host does, and how long everyone watches before the next one.
SCENARIO: list[tuple[dict[str, Any], float]] = [
    ({"action": "play"}, 5.0),
    ({"action": "seek", "position": 600.0}, 5.0),
    ({"action": "rate", "rate": 1.5}, 4.0),
    ({"action": "rate", "rate": 1.0}, 4.0),
    ({"action": "pause"}, 3.0),
    ({"action": "seek", "position": 1200.0}, 2.0),
    ({"action": "play"}, 5.0),
    ({"action": "seek", "position": 300.0}, 5.0),
]


class Step(msgspec.Struct):
    command: dict[str, Any]
    issued_ms: float
    playback: Playback
    until_ms: float = 0.0


async def make_users(settings: Any, count: int) -> tuple[str, list[str]]:
    """A video of an hour, and ``count`` users in the database (parties need real members) with
    their tokens; the first owns the video and hosts."""
    issuer = AccessTokens(settings.jwt_secret, settings.jwt_issuer, 3600)
    users = [
        Principal(id=uuid.uuid4(), handle=f"viewer_{uuid.uuid4().hex[:8]}", role="viewer")
        for _ in range(count)
    ]
    video_id = uuid.uuid4()
    connection = await asyncpg.connect(settings.database_url)
    try:
        await connection.executemany(
            "INSERT INTO users (id, handle, role) VALUES ($1, $2, 'viewer')",
            [(u.id, u.handle) for u in users],
        )
        await connection.execute(
            "INSERT INTO videos (id, owner_id, title, status, duration_seconds)"
            " VALUES ($1, $2, 'bench', 'ready', 3600)",
            video_id,
            users[0].id,
        )
    finally:
        await connection.close()
    return str(video_id), [issuer.issue(user) for user in users]


async def party_for(http: httpx.AsyncClient, base: str, video_id: str, tokens: list[str]) -> str:
    def auth(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    created = await http.post(f"{base}/parties", json={"video_id": video_id}, headers=auth(tokens[0]))
    created.raise_for_status()
    party_id = str(created.json()["id"])
    for token in tokens[1:]:
        (await http.post(f"{base}/parties/{party_id}/join", headers=auth(token))).raise_for_status()
    return party_id


async def run_policy(
    policy: str, urls: list[str], party_id: str, tokens: list[str], processes: int, seed: int, warmup: float
) -> dict[str, Any]:
    shares = [len(tokens) // processes + (1 if n < len(tokens) % processes else 0) for n in range(processes)]
    workers, first = [], 0
    for share in shares:
        worker = await run_worker("party_viewers")
        config = {"policy": policy, "party": party_id, "urls": urls, "tokens": tokens[first : first + share],
                  "seed": seed, "first": first}  # fmt: skip
        await tell(worker, json.dumps(config))
        workers.append(worker)
        first += share
    ready = await asyncio.gather(*(read_line(worker) for worker in workers))
    assert sum(line["ready"] for line in ready) == len(tokens), ready
    await asyncio.sleep(warmup)  # the viewers sync their clocks meanwhile
    steps: list[Step] = []
    for command, hold in SCENARIO:
        await tell(workers[0], "command " + json.dumps(command))
        answer = await read_line(workers[0])
        playback = msgspec.convert(answer["state"]["playback"], Playback)
        steps.append(Step(command, answer["issued_ms"], playback))
        await asyncio.sleep(hold)  # everyone watches before the next command
    for step, after in zip(steps, [*steps[1:], None], strict=True):
        step.until_ms = after.issued_ms if after else step.issued_ms + SCENARIO[-1][1] * 1000
    for worker in workers:
        await tell(worker, "report")
    reports = await asyncio.gather(*(read_line(worker, 120) for worker in workers))
    for worker in workers:
        await tell(worker, "quit")
    await asyncio.gather(*(asyncio.wait_for(worker.wait(), 60) for worker in workers))
    viewers = [v for r in reports for v in r["viewers"]]
    return evaluate(policy, steps, viewers)


def evaluate(policy: str, steps: list[Step], viewers: list[dict[str, Any]]) -> dict[str, Any]:
    histories = [[Segment(*s) for s in v["segments"]] for v in viewers]
    per_command: list[dict[str, Any]] = []
    all_pairs: list[float] = []
    all_schedule: list[float] = []
    for step in steps:
        pairs, schedule, unconverged_until = [], [], None
        t = step.playback.at
        while t < step.until_ms:
            positions = [position_at(history, t) for history in histories]
            errors = [abs(a - b) * 1000 for a, b in combinations(positions, 2)]
            pairs += errors
            expected = step.playback.position_at(t)
            schedule += [abs(p - expected) * 1000 for p in positions]
            if max(errors) > CONVERGED_MS:
                unconverged_until = t
            t += SAMPLE_MS
        converged = step.playback.at if unconverged_until is None else unconverged_until + SAMPLE_MS
        per_command.append(
            {
                "command": step.command,
                "lead_ms": round(step.playback.at - step.issued_ms, 1),
                "pairwise_ms": summary(pairs),
                "vs_schedule_ms": summary(schedule),
                "converge_ms": round(converged - step.issued_ms, 1) if converged < step.until_ms else None,
            }
        )
        all_pairs += pairs
        all_schedule += schedule
    clock_errors = [abs(v["clock_error_ms"]) for v in viewers if v["clock_error_ms"] is not None]
    converge: list[float | None] = [c["converge_ms"] for c in per_command]
    reached = [c for c in converge if c is not None]
    return {
        "policy": policy,
        "pairwise_ms": summary(all_pairs),
        "vs_schedule_ms": summary(all_schedule),
        "converge_ms_median": statistics.median(reached) if reached else None,
        "converge_ms_max": max(reached) if len(reached) == len(converge) else None,
        "converged_commands": f"{len(reached)} of {len(converge)}",
        "clock_error_ms": summary(clock_errors) if clock_errors else None,
        "start_latency_learned_ms": summary([v["start_latency_ms"] for v in viewers]),
        "client_failures": [f for v in viewers for f in v["failures"]],  # should stay empty
        "per_command": per_command,
    }


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(values, 0.50), 2),
        "p95": round(percentile(values, 0.95), 2),
        "max": round(max(values, default=float("nan")), 2),
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--viewers", type=int, default=20)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--instances", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--policies", default=",".join(POLICIES))
    parser.add_argument(
        "--warmup", type=float, default=4.0, help="seconds of clock sync before the first command"
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rounds: list[dict[str, Any]] = []
    async with embedded_settings() as settings, gateways(settings, args.instances) as servers:
        urls = [server.ws_url for server in servers]
        video_id, tokens = await make_users(settings, args.viewers)
        async with httpx.AsyncClient(timeout=30) as http:
            for number in range(args.rounds):
                results = {}
                for policy in args.policies.split(","):
                    party_id = await party_for(http, servers[0].http_url, video_id, tokens)
                    seed = args.seed + number
                    results[policy] = await run_policy(
                        policy, urls, party_id, tokens, args.processes, seed, args.warmup
                    )
                    print(
                        json.dumps({k: v for k, v in results[policy].items() if k != "per_command"}),
                        file=sys.stderr,
                    )
                rounds.append(results)
    summary_out = summarize(rounds)
    command = ("python -m bench.parties " + " ".join(sys.argv[1:])).strip()
    path = write_results(
        "parties", command, {"settings": vars(args), "summary": summary_out, "rounds": rounds}
    )
    print(json.dumps(summary_out, indent=2))
    print(f"written to {path}", file=sys.stderr)


def summarize(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """The worst round of each policy (p95 of the pairwise error), and ratios to ours."""
    worst = {
        policy: max((r[policy] for r in rounds), key=lambda result: result["pairwise_ms"]["p95"])
        for policy in rounds[0]
    }
    keys = ("pairwise_ms", "vs_schedule_ms", "converge_ms_median", "converge_ms_max", "converged_commands")
    out: dict[str, Any] = {
        policy: {**{key: result[key] for key in keys}, "clock_error_ms": result["clock_error_ms"]}
        for policy, result in worst.items()
    }
    if "mydrtv" in worst:
        ours = worst["mydrtv"]["pairwise_ms"]["p95"]
        out["goal_p95_ms"] = 30.0
        out["goal_met"] = ours <= 30.0
        for policy in worst:
            if policy != "mydrtv":
                out[f"{policy}_p95_over_mydrtv_p95"] = round(worst[policy]["pairwise_ms"]["p95"] / ours, 1)
    return out


if __name__ == "__main__":
    asyncio.run(main())

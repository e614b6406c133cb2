"""Cross-instance: 1 publisher, N subscribers spread over 3 gateway processes sharing one Redis,
beside the same load on a single gateway process in the same run.

    python -m bench.cross_instance [--instances 3] [--subscribers 1000] [--rounds 2]

Same phases as ``bench.fanout`` (burst, then steady); what matters here is that every
subscriber receives every message (zero loss) and the publish-to-receive p99 across instances.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
from typing import Any

import msgspec

from bench.fanout import CHANNEL, gateway_side, one_side
from bench.harness import embedded_settings, write_results


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--instances", type=int, default=3)
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--burst", type=int, default=100)
    parser.add_argument("--rate", type=float, default=10)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    worker_args = ["--mode", "gateway", "--channel", CHANNEL]
    rounds: list[dict[str, Any]] = []
    async with embedded_settings(ws_send_queue=4096) as settings:
        for _ in range(args.rounds):
            spread = await one_side(
                f"{args.instances} instances", gateway_side(settings, args.instances), args, worker_args
            )
            single = await one_side("1 instance", gateway_side(settings, 1), args, worker_args)
            rounds.append({"spread": spread, "single": single})

    def lost(side: dict[str, Any]) -> int:
        return int(sum(side[phase]["expected"] - side[phase]["deliveries"] for phase in ("burst", "steady")))

    summary = {
        "instances": args.instances,
        "subscribers": args.subscribers,
        "lost_across_instances": sum(lost(r["spread"]) for r in rounds),
        "lost_single_instance": sum(lost(r["single"]) for r in rounds),
        "steady_p99_ms_across_instances_median": statistics.median(
            r["spread"]["steady"]["p99_ms"] for r in rounds
        ),
        "steady_p99_ms_single_instance_median": statistics.median(
            r["single"]["steady"]["p99_ms"] for r in rounds
        ),
        "burst_deliveries_per_second_across_instances_median": statistics.median(
            r["spread"]["burst"]["deliveries_per_second"] for r in rounds
        ),
        "burst_deliveries_per_second_single_instance_median": statistics.median(
            r["single"]["burst"]["deliveries_per_second"] for r in rounds
        ),
    }
    command = ("python -m bench.cross_instance " + " ".join(sys.argv[1:])).strip()
    path = write_results(
        "cross_instance", command, {"settings": vars(args), "summary": summary, "rounds": rounds}
    )
    print(msgspec.json.encode(summary).decode())
    print(f"written to {path}", file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main())

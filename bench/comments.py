"""Live comments: comments posted per second through the API with 1000 viewers on the video, and
post-to-screen latency, beside baselines from the same run.

    python -m bench.comments [--viewers 1000] [--rounds 3]

One gateway process (Redis bus, outbox relay) serves both the API and the viewers' sockets; the
viewers live in ``--processes`` worker processes (``bench.subscribers --mode comments``) and the
posters are ``--posters`` users of their own, posting from this process. Each round:

- alone: ``--burst`` comments posted by ``--posters`` concurrent users on a video nobody watches;
  comments/s = comments / (last answer - first request), and the server's CPU per comment;
- watched: the same burst on a video with ``--viewers`` subscribers; comments/s as above, and
  deliveries/s until every viewer has every comment;
- steady: ``--rate`` comments/s for ``--seconds`` on the watched video: post-to-screen latency,
  from just before the POST to the viewer's receipt of ``comment.created``;
- fan-out baseline: the same rate of the same event published straight on the bus (what the
  relay does after the commit): bus-to-screen latency, the part of the post-to-screen time that
  is not the API, the database and the outbox.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import msgspec
import psutil

from app.auth.tokens import AccessTokens, Principal
from app.comments.events import CommentCreated
from app.comments.schemas import Comment
from app.settings import Settings
from app.videos.schemas import UserRef
from bench.fleet import Fleet
from bench.harness import embedded_settings, gateways, latency_summary, write_results
from realtime.bus.redis import RedisBus
from realtime.channels import channel_name
from support.processes import ServerProcess


def body(seq: int) -> str:
    """The text every viewer parses: the send time travels inside the comment."""
    return f"bench {seq} {time.time_ns()}"


class Posters:
    """Users of their own, each with a token, posting through the API."""

    def __init__(self, server: ServerProcess, tokens: list[str]) -> None:
        self.http = httpx.AsyncClient(
            base_url=server.http_url, timeout=60, limits=httpx.Limits(max_connections=len(tokens))
        )
        self.headers = [{"Authorization": f"Bearer {token}"} for token in tokens]
        self.seq = 0
        self.failed = 0

    @classmethod
    async def create(cls, settings: Settings, server: ServerProcess, count: int) -> Posters:
        issuer = AccessTokens(settings.jwt_secret, settings.jwt_issuer, 3600)
        users = [(uuid.uuid4(), f"poster_{uuid.uuid4().hex[:10]}") for _ in range(count)]
        connection = await asyncpg.connect(settings.database_url)
        try:
            await connection.executemany("INSERT INTO users (id, handle) VALUES ($1, $2)", users)
        finally:
            await connection.close()
        return cls(server, [issuer.issue(Principal(id=i, handle=h, role="viewer")) for i, h in users])

    async def video(self) -> str:
        response = await self.http.post("/videos", json={"title": "bench"}, headers=self.headers[0])
        response.raise_for_status()
        return str(response.json()["id"])

    async def post(self, video: str, poster: int) -> None:
        self.seq += 1
        response = await self.http.post(
            f"/videos/{video}/comments", json={"body": body(self.seq)}, headers=self.headers[poster]
        )
        if response.status_code != 201:
            self.failed += 1
            print(f"post failed: {response.status_code} {response.text}", file=sys.stderr)

    async def burst(self, video: str, count: int) -> float:
        """``count`` comments, every poster posting one after another; returns the seconds taken."""
        share = [
            count // len(self.headers) + (n < count % len(self.headers)) for n in range(len(self.headers))
        ]

        async def one(poster: int) -> None:
            for _ in range(share[poster]):
                await self.post(video, poster)

        started = time.perf_counter()
        await asyncio.gather(*(one(p) for p in range(len(self.headers))))
        return time.perf_counter() - started

    async def steady(self, video: str, rate: float, seconds: float) -> int:
        """``rate`` comments a second for ``seconds``, each from the next poster, not waiting for answers."""
        interval, start, tasks = 1 / rate, time.monotonic(), []
        for n in range(int(rate * seconds)):
            await asyncio.sleep(max(0.0, start + n * interval - time.monotonic()))
            tasks.append(asyncio.create_task(self.post(video, n % len(self.headers))))
        await asyncio.gather(*tasks)
        return len(tasks)

    async def close(self) -> None:
        await self.http.aclose()


def fake_event(video: str, seq: int) -> bytes:
    """A ``comment.created`` like the API's, for the fan-out baseline."""
    comment = Comment(
        id=seq,
        video_id=uuid.UUID(video),
        author=UserRef(id=uuid.uuid4(), handle="poster_baseline"),
        body=body(seq),
        parent_id=None,
        root_id=None,
        position_seconds=None,
        status="visible",
        reply_count=0,
        created_at=datetime.now(UTC),
        edited_at=None,
    )
    return msgspec.json.encode(CommentCreated(comment))


async def one_round(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    async with gateways(settings, 1) as (server,):
        assert server.process is not None
        cpu_of = psutil.Process(server.process.pid)

        def cpu_seconds() -> float:
            return float(sum(cpu_of.cpu_times()[:2]))

        posters = await Posters.create(settings, server, args.posters)
        bus = RedisBus(settings.redis_url, settings.redis_namespace, settings.bus_history_size)
        await bus.start()
        fleet = Fleet()
        try:
            alone_video, watched_video = await posters.video(), await posters.video()
            await posters.burst(alone_video, 50)  # warm-up: connections, caches, the planner
            cpu = cpu_seconds()
            alone_seconds = await posters.burst(alone_video, args.burst)
            alone_cpu = cpu_seconds() - cpu

            channel = channel_name("video", watched_video)
            await fleet.start(
                args.viewers,
                args.processes,
                "--mode",
                "comments",
                "--urls",
                server.ws_url,
                "--channel",
                channel,
            )
            await fleet.mark()
            cpu = cpu_seconds()
            started = time.time_ns()
            watched_seconds = await posters.burst(watched_video, args.burst)
            delivered = await fleet.collect(args.burst, 120)
            watched_cpu = cpu_seconds() - cpu
            delivery_seconds = (delivered["last_ns"] - started) / 1e9

            await fleet.mark()
            cpu = cpu_seconds()
            sent = args.burst + await posters.steady(watched_video, args.rate, args.seconds)
            steady = await fleet.collect(sent, 60)
            steady_cpu = cpu_seconds() - cpu

            await fleet.mark()
            cpu = cpu_seconds()
            interval, start = 1 / args.rate, time.monotonic()
            messages = int(args.rate * args.seconds)
            for n in range(messages):
                await asyncio.sleep(max(0.0, start + n * interval - time.monotonic()))
                await bus.publish(channel, fake_event(watched_video, 1_000_000 + n))
            fanout = await fleet.collect(sent + messages, 60)
            fanout_cpu = cpu_seconds() - cpu
        finally:
            await fleet.stop()
            await bus.stop()
            await posters.close()
    return {
        "alone": {
            "comments": args.burst,
            "comments_per_second": round(args.burst / alone_seconds, 1),
            "server_cpu_ms_per_comment": round(1000 * alone_cpu / args.burst, 2),
        },
        "watched": {
            "comments": args.burst,
            "comments_per_second": round(args.burst / watched_seconds, 1),
            "server_cpu_ms_per_comment": round(1000 * watched_cpu / args.burst, 2),
            "deliveries": delivered["received"],
            "expected": args.burst * args.viewers,
            "deliveries_per_second": round(delivered["received"] / delivery_seconds),
            **latency_summary(delivered["latencies_ms"]),
        },
        "steady": {
            "rate_per_second": args.rate,
            "comments": sent - args.burst,
            "deliveries": steady["received"],
            "expected": (sent - args.burst) * args.viewers,
            "server_cpu_ms_per_comment": round(1000 * steady_cpu / (sent - args.burst), 2),
            **latency_summary(steady["latencies_ms"]),
        },
        "fanout_baseline": {
            "rate_per_second": args.rate,
            "messages": messages,
            "deliveries": fanout["received"],
            "expected": messages * args.viewers,
            "server_cpu_ms_per_message": round(1000 * fanout_cpu / messages, 2),
            **latency_summary(fanout["latencies_ms"]),
        },
        "failed_posts": posters.failed,
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--viewers", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--posters", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--rate", type=float, default=10)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    rounds: list[dict[str, Any]] = []
    async with embedded_settings(ws_send_queue=4096, comment_rate="1000000/minute") as settings:
        for _ in range(args.rounds):
            result = await one_round(settings, args)
            print(f"round: {result}", file=sys.stderr, flush=True)
            rounds.append(result)

    def median(*path: str) -> float:
        values = []
        for r in rounds:
            value: Any = r
            for key in path:
                value = value[key]
            values.append(float(value))
        return round(statistics.median(values), 2)

    summary = {
        "viewers": args.viewers,
        "comments_per_second_watched_median": median("watched", "comments_per_second"),
        "comments_per_second_alone_median": median("alone", "comments_per_second"),
        "watched_to_alone_ratio_median": round(
            statistics.median(
                r["watched"]["comments_per_second"] / r["alone"]["comments_per_second"] for r in rounds
            ),
            3,
        ),
        "server_cpu_ms_per_comment_alone_median": median("alone", "server_cpu_ms_per_comment"),
        "server_cpu_ms_per_comment_watched_median": median("steady", "server_cpu_ms_per_comment"),
        "server_cpu_ms_per_fanout_message_median": median("fanout_baseline", "server_cpu_ms_per_message"),
        "post_to_screen_p99_ms_median": median("steady", "p99_ms"),
        "post_to_screen_p50_ms_median": median("steady", "p50_ms"),
        "fanout_baseline_p99_ms_median": median("fanout_baseline", "p99_ms"),
        "fanout_baseline_p50_ms_median": median("fanout_baseline", "p50_ms"),
        "lost": sum(
            r[phase]["expected"] - r[phase]["deliveries"]
            for r in rounds
            for phase in ("watched", "steady", "fanout_baseline")
        ),
        "failed_posts": sum(r["failed_posts"] for r in rounds),
    }
    command = ("python -m bench.comments " + " ".join(sys.argv[1:])).strip()
    path = write_results("comments", command, {"settings": vars(args), "summary": summary, "rounds": rounds})
    print(msgspec.json.encode(summary).decode())
    print(f"written to {path}", file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main())

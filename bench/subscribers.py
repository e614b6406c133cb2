"""A benchmark worker: many websocket subscribers in one process, driven by lines on stdin.

    python -m bench.subscribers --mode gateway --urls ws://127.0.0.1:8000/ws --count 250 \
        --channel video:bench [--secret S --issuer I --database-url URL]

It connects ``count`` sockets (round-robin over ``urls``), prints ``{"ready": count}``, then
answers commands, one JSON line each:

- ``mark``: forget the latencies recorded so far (answers ``{"marked": true}``);
- ``collect N SECONDS``: wait until every socket has received N messages in all (or SECONDS pass)
  and print how many arrived since ``mark``, their publish-to-receive latencies in milliseconds,
  and when the last one arrived;
- ``quit``: close the sockets and exit.

In ``gateway`` mode each socket sends ``connect`` (with a token of its own user when a secret is
given, whose ``users`` row it writes first when given the database: the gateway refuses tokens
of users that do not exist) and subscribes to ``channel``; ``own`` subscribes each to its user's
channel instead. In ``bare`` mode the socket only connects: the baseline server sends everything to everyone.
``comments`` mode is ``gateway`` mode reading ``comment.created`` events whose text is
``"<anything> <seq> <sent>"`` (``bench.comments``); other publications are not counted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
import uuid

import asyncpg
import msgspec
import websockets
from websockets.asyncio.client import ClientConnection

from app.auth.tokens import AccessTokens, Principal
from realtime.channels import channel_name


class Payload(msgspec.Struct):
    seq: int
    sent: int  # time.time_ns() at publish


class GatewayFrame(msgspec.Struct):
    type: str
    data: Payload | None = None


class CommentText(msgspec.Struct):
    body: str


class CommentEvent(msgspec.Struct):
    type: str
    comment: CommentText | None = None


class CommentFrame(msgspec.Struct):
    type: str
    data: CommentEvent | None = None


gateway_frame = msgspec.json.Decoder(GatewayFrame)
bare_frame = msgspec.json.Decoder(Payload)
comment_frame = msgspec.json.Decoder(CommentFrame)


def gateway_payload(frame: str | bytes) -> Payload | None:
    return gateway_frame.decode(frame).data  # None: presence events and the like


def comment_payload(frame: str | bytes) -> Payload | None:
    event = comment_frame.decode(frame).data
    if event is None or event.type != "comment.created" or event.comment is None:
        return None
    _, seq, sent = event.comment.body.rsplit(" ", 2)
    return Payload(seq=int(seq), sent=int(sent))


DECODERS = {"gateway": gateway_payload, "bare": bare_frame.decode, "comments": comment_payload}


class Subscribers:
    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.decode = DECODERS[mode]
        self.sockets: list[ClientConnection] = []
        self.readers: list[asyncio.Task[None]] = []
        self.counts: list[int] = []
        self.latencies_ms: list[float] = []
        self.last_ns = 0
        self.target = 0
        self.behind = 0  # sockets that have not reached the target
        self.reached = asyncio.Event()

    async def open(self, url: str, token: str | None, channel: str | None) -> None:
        socket = await websockets.connect(url, open_timeout=120, ping_interval=None, max_size=None)
        if self.mode != "bare":
            await socket.send(json.dumps({"type": "connect", "id": 1, "token": token}))
            reply = json.loads(await socket.recv())
            assert reply["type"] == "connected", reply
            if channel is not None:
                await socket.send(json.dumps({"type": "subscribe", "id": 2, "channel": channel}))
                reply = json.loads(await socket.recv())
                assert reply["type"] == "subscribed", reply
        index = len(self.sockets)
        self.sockets.append(socket)
        self.counts.append(0)
        self.readers.append(asyncio.create_task(self._receive(index, socket)))

    async def _receive(self, index: int, socket: ClientConnection) -> None:
        decode = self.decode
        try:
            async for frame in socket:
                now = time.time_ns()
                payload = decode(frame)
                if payload is None:
                    continue
                self.latencies_ms.append((now - payload.sent) / 1e6)
                self.last_ns = now
                self.counts[index] += 1
                if self.counts[index] == self.target:
                    self.behind -= 1
                    if self.behind == 0:
                        self.reached.set()
        except websockets.ConnectionClosed:
            pass

    def mark(self) -> dict[str, object]:
        self.latencies_ms = []
        return {"marked": True}

    async def collect(self, target: int, within: float) -> dict[str, object]:
        self.target = target
        self.behind = sum(1 for count in self.counts if count < target)
        self.reached = asyncio.Event()
        if self.behind:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.reached.wait(), within)
        return {
            "received": len(self.latencies_ms),
            "complete": sum(1 for count in self.counts if count >= target),
            "latencies_ms": self.latencies_ms,
            "last_ns": self.last_ns,
        }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=sorted(DECODERS), required=True)
    parser.add_argument("--urls", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--channel", default=None)
    parser.add_argument("--secret", default=None)
    parser.add_argument("--issuer", default="mydrtv")
    parser.add_argument("--parallel", type=int, default=50)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    urls = args.urls.split(",")
    subscribers = Subscribers(args.mode)
    issuer = AccessTokens(args.secret, args.issuer, 3600) if args.secret else None
    gate = asyncio.Semaphore(args.parallel)

    users = [
        Principal(id=uuid.uuid4(), handle=f"u_{uuid.uuid4().hex[:16]}", role="viewer")
        for _ in range(args.count)
    ]
    if issuer and args.database_url:
        connection = await asyncpg.connect(args.database_url)
        try:
            await connection.executemany(
                "INSERT INTO users (id, handle, role) VALUES ($1, $2, 'viewer')",
                [(u.id, u.handle) for u in users],
            )
        finally:
            await connection.close()

    async def one(n: int) -> None:
        user = users[n].id
        token = issuer.issue(users[n]) if issuer else None
        channel = channel_name("user", user) if args.channel == "own" else args.channel
        async with gate:
            await subscribers.open(urls[n % len(urls)], token, channel)

    await asyncio.gather(*(one(n) for n in range(args.count)))
    print(json.dumps({"ready": len(subscribers.sockets)}), flush=True)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := (await reader.readline()).decode().split():
        if line[0] == "mark":
            print(json.dumps(subscribers.mark()), flush=True)
        elif line[0] == "collect":
            result = await subscribers.collect(int(line[1]), float(line[2]))
            print(json.dumps(result), flush=True)
        elif line[0] == "quit":
            break
    await asyncio.gather(*(socket.close() for socket in subscribers.sockets), return_exceptions=True)


if __name__ == "__main__":
    asyncio.run(main())

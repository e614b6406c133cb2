"""A lean benchmark worker: many websocket viewers in one process, each a bare asyncio protocol.

    python -m bench.viewers --mode comments --urls ws://127.0.0.1:8000/ws --count 250 \
        --channels video:a,video:b

``bench.subscribers`` reads each socket through the ``websockets`` asyncio client, which costs
tens of microseconds of client CPU per frame: at 100 000 deliveries a second the clients, on the
same cores as the server, would be what is measured. Here each socket is an ``asyncio.Protocol``
that parses the server's frames by hand (unmasked, unfragmented, as both servers send them) and
answers pings, so the servers stay the bottleneck. The same worker reads the gateway and the bare
``websockets`` server, so both are measured alike.

It connects ``count`` sockets (round-robin over ``urls``; socket ``n`` subscribes to channel
``n % len(channels)``), prints ``{"ready": count}``, then answers the lines ``bench.subscribers``
answers (``mark``, ``collect N SECONDS``, ``quit``). Latencies come back as a histogram of
0.1 ms buckets, not one number per delivery: a phase here has millions of them.

``--tokens FILE`` signs socket ``k`` of the worker in with the file's line ``k`` (an access
token); ``--source ADDR`` connects from that local address (127.0.0.2 and up are loopback too:
one address has only some 28 000 ephemeral ports towards one server address and port).

Modes: ``comments`` counts ``comment.created`` publications whose body ends with
``"<seq> <sent ns>"``; ``gateway`` counts publications whose data is ``{"seq", "sent"}``;
``bare`` counts bare ``{"seq", "sent"}`` messages (the baseline server has no protocol).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import struct
import sys
import time
from collections import Counter
from collections.abc import Callable
from urllib.parse import urlsplit

import msgspec

from bench.subscribers import DECODERS, Payload

Decode = Callable[[bytes], "Payload | None"]


def client_frame(opcode: int, payload: bytes) -> bytes:
    """A masked client frame (RFC 6455 5.3: every client frame is masked)."""
    mask = os.urandom(4)
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + masked


class Tally:
    """What every socket of the worker received since ``mark``."""

    def __init__(self) -> None:
        self.histogram: Counter[int] = Counter()  # 0.1 ms buckets
        self.received = 0
        self.last_ns = 0
        self.target = 0
        self.behind = 0
        self.reached = asyncio.Event()

    def mark(self) -> None:
        self.histogram = Counter()
        self.received = 0


class Viewer(asyncio.Protocol):
    """One socket: the handshake and the first replies through futures, then frames counted."""

    def __init__(self, tally: Tally, decode: Decode) -> None:
        self.tally = tally
        self.decode = decode
        self.buffer = bytearray()
        self.upgraded = False
        self.transport: asyncio.Transport | None = None
        self.replies: asyncio.Queue[bytes] = asyncio.Queue()
        self.live = False
        self.count = 0
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)

    def send_text(self, text: str) -> None:
        assert self.transport is not None
        self.transport.write(client_frame(0x1, text.encode()))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.upgraded:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(self.buffer[: self.buffer.find(b"\r\n")])
            if b" 101 " not in status:
                raise RuntimeError(f"handshake refused: {status!r}")
            del self.buffer[: end + 4]
            self.upgraded = True
            self.replies.put_nowait(b"")
        self._frames()

    def _frames(self) -> None:
        buffer = self.buffer
        start = 0
        now = time.time_ns()
        while len(buffer) - start >= 2:
            first, second = buffer[start], buffer[start + 1]
            n = second & 0x7F
            at = start + 2
            if n == 126:
                if len(buffer) - at < 2:
                    break
                (n,) = struct.unpack_from("!H", buffer, at)
                at += 2
            elif n == 127:
                if len(buffer) - at < 8:
                    break
                (n,) = struct.unpack_from("!Q", buffer, at)
                at += 8
            if len(buffer) - at < n:
                break
            payload = bytes(buffer[at : at + n])
            start = at + n
            opcode = first & 0x0F
            if opcode == 0x1:
                self._message(payload, now)
            elif opcode == 0x9 and self.transport is not None:  # ping: pong with its payload
                self.transport.write(client_frame(0xA, payload))
            elif opcode == 0x8 and self.transport is not None:
                self.transport.close()
        del buffer[:start]

    def _message(self, payload: bytes, now: int) -> None:
        if not self.live:
            self.replies.put_nowait(payload)
            return
        sent = self.decode(payload)
        if sent is None:
            return
        tally = self.tally
        tally.histogram[int((now - sent.sent) / 100_000)] += 1
        tally.received += 1
        tally.last_ns = now
        self.count += 1
        if self.count == tally.target:
            tally.behind -= 1
            if tally.behind == 0:
                tally.reached.set()


async def open_viewer(
    url: str,
    channel: str | None,
    tally: Tally,
    decode: Decode,
    gateway: bool,
    token: str | None = None,
    source: str | None = None,
) -> Viewer:
    parts = urlsplit(url)
    loop = asyncio.get_running_loop()
    _, viewer = await loop.create_connection(
        lambda: Viewer(tally, decode),
        parts.hostname or "127.0.0.1",
        parts.port or 80,
        local_addr=(source, 0) if source else None,
    )
    assert viewer.transport is not None
    key = base64.b64encode(os.urandom(16)).decode()
    viewer.transport.write(
        (
            f"GET {parts.path or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    await asyncio.wait_for(viewer.replies.get(), 120)
    if gateway:
        hello: dict[str, object] = {"type": "connect", "id": 1}
        if token is not None:
            hello["token"] = token
        viewer.send_text(json.dumps(hello))
        reply = json.loads(await asyncio.wait_for(viewer.replies.get(), 120))
        assert reply["type"] == "connected", reply
        for attempt in range(20 if channel is not None else 0):
            # As a real client does, a subscribe refused for an outage is tried again later.
            viewer.send_text(json.dumps({"type": "subscribe", "id": 2, "channel": channel}))
            reply = json.loads(await asyncio.wait_for(viewer.replies.get(), 120))
            if reply["type"] == "subscribed":
                break
            assert reply["type"] == "error" and reply["code"].endswith("_unavailable"), reply
            assert attempt < 19, reply
            await asyncio.sleep(0.5 + attempt * 0.5)
    viewer.live = True
    return viewer


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=sorted(DECODERS), required=True)
    parser.add_argument("--urls", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--channels", default=None, help="comma-separated; socket n takes n % len")
    parser.add_argument("--first", type=int, default=0, help="this worker's first socket number")
    parser.add_argument("--parallel", type=int, default=50)
    parser.add_argument("--tokens", default=None, help="a file of access tokens, one per socket")
    parser.add_argument("--source", default=None, help="the local address to connect from")
    args = parser.parse_args()
    urls = args.urls.split(",")
    channels = args.channels.split(",") if args.channels else [None]
    decode: Decode = DECODERS[args.mode]
    tally = Tally()
    gate = asyncio.Semaphore(args.parallel)
    viewers: list[Viewer] = []
    tokens: list[str | None] = [None] * args.count
    if args.tokens:
        with open(args.tokens) as lines:  # noqa: ASYNC230 - before any socket is open
            tokens = [line.strip() or None for line in lines][: args.count]
        if len(tokens) < args.count:
            parser.error(f"{args.tokens} has {len(tokens)} tokens for {args.count} sockets")

    async def one(k: int) -> None:
        n = args.first + k
        async with gate:
            viewers.append(
                await open_viewer(
                    urls[n % len(urls)],
                    channels[n % len(channels)],
                    tally,
                    decode,
                    args.mode != "bare",
                    tokens[k],
                    args.source,
                )
            )

    await asyncio.gather(*(one(k) for k in range(args.count)))
    print(json.dumps({"ready": len(viewers)}), flush=True)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := (await reader.readline()).decode().split():
        if line[0] == "mark":
            tally.mark()
            print(json.dumps({"marked": True}), flush=True)
        elif line[0] == "collect":
            target, within = int(line[1]), float(line[2])
            tally.target = target
            tally.behind = sum(1 for v in viewers if v.count < target)
            tally.reached = asyncio.Event()
            if tally.behind:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(tally.reached.wait(), within)
            result = {
                "received": tally.received,
                "complete": sum(1 for v in viewers if v.count >= target),
                "histogram": {str(k): v for k, v in tally.histogram.items()},
                "last_ns": tally.last_ns,
                "closed": sum(1 for v in viewers if v.closed.done()),
            }
            print(msgspec.json.encode(result).decode(), flush=True)
        elif line[0] == "quit":
            break
    for viewer in viewers:
        if viewer.transport is not None:
            viewer.transport.close()


if __name__ == "__main__":
    asyncio.run(main())

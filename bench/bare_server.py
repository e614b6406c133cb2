"""The baseline: a bare ``websockets`` broadcast server with no protocol, auth or history.

    python -m bench.bare_server --port 8765

A socket on ``/publish`` is the publisher: every message it sends goes to every other socket
through ``websockets.broadcast``, the library's own fan-out. Compression is off, as in the
gateway. It prints ``ready`` once listening.
"""

from __future__ import annotations

import argparse
import asyncio

from websockets.asyncio.server import ServerConnection, broadcast, serve

subscribers: set[ServerConnection] = set()


async def handle(socket: ServerConnection) -> None:
    assert socket.request is not None
    if socket.request.path == "/publish":
        async for message in socket:
            broadcast(subscribers, message)
        return
    subscribers.add(socket)
    try:
        await socket.wait_closed()
    finally:
        subscribers.discard(socket)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    async with serve(
        handle, "127.0.0.1", args.port, ping_interval=20, backlog=4096, compression=None
    ) as server:
        print("ready", flush=True)
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())

"""The node's own bookkeeping: what a channel leaves behind once its last socket is gone."""

from __future__ import annotations

import asyncio

from realtime.bus.memory import MemoryBus
from realtime.connection import Connection
from realtime.node import Node
from realtime.presence.memory import MemoryPresence


class Socket:
    def __init__(self) -> None:
        self.frames: list[str] = []

    async def send(self, frame: str) -> None:
        self.frames.append(frame)

    async def close(self, code: int, reason: str) -> None:
        pass


async def test_a_channel_leaves_nothing_behind_when_its_last_socket_goes() -> None:
    node = Node(MemoryBus(100, 600), MemoryPresence(30))
    await node.start()
    sockets = [Socket() for _ in range(3)]
    connections = [Connection(s.send, s.close, None, 10) for s in sockets]
    for connection in connections:
        node.add(connection)
    await asyncio.gather(*(node.subscribe(c, f"video:{n}", 1, None) for n in range(50) for c in connections))
    for connection in connections:
        await node.remove(connection)
    assert node._subscribers == {} and node._on_bus == set() and dict(node._locks) == {}
    await node.stop()

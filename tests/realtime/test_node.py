"""The node's own bookkeeping: what a channel leaves behind once its last socket is gone, and what
it may promise a subscriber after losing Redis."""

from __future__ import annotations

import asyncio
import uuid

from core.tokens import Principal
from realtime import protocol
from realtime.bus.base import BusUnavailable, Publication
from realtime.bus.memory import MemoryBus
from realtime.bus.redis import RedisBus
from realtime.connection import Connection
from realtime.node import Node
from realtime.presence.memory import MemoryPresence
from realtime.presence.redis import RedisPresence
from support.faults.servers import RedisServer


class Socket:
    def __init__(self) -> None:
        self.frames: list[str] = []

    async def send(self, frame: str) -> None:
        self.frames.append(frame)

    async def close(self, code: int, reason: str) -> None:
        pass


class Watched:
    """A socket whose frames and close can be awaited."""

    def __init__(self) -> None:
        self.frames: asyncio.Queue[str] = asyncio.Queue()
        self.closed = asyncio.Event()
        self.code: int | None = None

    async def send(self, frame: str) -> None:
        self.frames.put_nowait(frame)

    async def close(self, code: int, reason: str) -> None:
        self.code = code
        self.closed.set()


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


async def test_after_losing_redis_a_subscriber_gets_a_position_only_once_delivery_is_back() -> None:
    """Issue 20: a node that lost Redis kept believing it was on the bus for its channels; a
    subscriber right after Redis came back got a position while the node's pub/sub was still
    away, and the publications after it never came. Now the node asks the bus, which refuses
    (``BusUnavailable``, the socket is sent off with 4010) until delivery is proven again."""
    redis = RedisServer()
    await redis.start()
    namespace = f"node-{uuid.uuid4().hex[:6]}"
    node = Node(RedisBus(redis.url, namespace), RedisPresence(redis.url, namespace, 30))
    publisher = RedisBus(redis.url, namespace)
    try:
        await node.start()
        watched = Watched()
        first = Connection(watched.send, watched.close, None, 10)
        node.add(first)
        await node.subscribe(first, "video:1", 1, None)
        await redis.kill()
        await asyncio.wait_for(watched.closed.wait(), 10)  # the bus reported the gap
        assert watched.code == protocol.CLOSE_BUS_GAP
        await asyncio.gather(*node._dropping)
        await redis.start()
        await publisher.start()

        socket = Watched()
        second = Connection(socket.send, socket.close, None, 10)
        node.add(second)
        while True:  # a new connection each time, as a client sent off with 4010 would make
            try:
                await node.subscribe(second, "video:1", 1, None)
                break
            except BusUnavailable:
                await asyncio.sleep(0.05)
        published = await publisher.publish("video:1", b'{"n": 1}')
        reply = protocol.server_decoder.decode(await asyncio.wait_for(socket.frames.get(), 5))
        publication = protocol.server_decoder.decode(await asyncio.wait_for(socket.frames.get(), 5))
        assert isinstance(reply, protocol.Subscribed) and isinstance(publication, protocol.Publication)
        assert (publication.epoch, publication.offset) == (reply.epoch, reply.offset + 1)
        assert publication.offset == published.offset
    finally:
        await publisher.stop()
        await node.stop()
        await redis.stop()


async def test_a_publication_out_of_sequence_sends_the_channel_off_to_recover() -> None:
    """The bus promises gap-free offsets; should a publication still arrive out of sequence, the
    node does not pass it on as if nothing were missing: its subscribers get 4010 and recover.
    A new epoch starting at offset 1 is in sequence (the history expired meanwhile)."""
    bus = MemoryBus(100, 600)
    node = Node(bus, MemoryPresence(30))
    await node.start()
    try:
        watched = Watched()
        connection = Connection(watched.send, watched.close, None, 10)
        node.add(connection)
        await node.subscribe(connection, "video:1", 1, None)
        first = await bus.publish("video:1", b"{}")
        bus._queue.put_nowait(Publication("video:1", "another", 1, b"{}"))  # a new epoch
        bus._queue.put_nowait(Publication("video:1", "another", 3, b"{}"))  # 2 went missing
        await asyncio.wait_for(watched.closed.wait(), 5)
        frames = [protocol.server_decoder.decode(watched.frames.get_nowait()) for _ in range(4)]
        assert [type(f) for f in frames] == [
            protocol.Subscribed,
            protocol.Publication,
            protocol.Publication,
            protocol.Disconnect,
        ]
        assert [(f.epoch, f.offset) for f in frames[1:3]] == [(first.epoch, 1), ("another", 1)]
        assert watched.code == protocol.CLOSE_BUS_GAP
    finally:
        await node.stop()


async def test_joins_and_leaves_stop_past_the_announce_limit() -> None:
    """Each join or leave is a frame to every subscriber: with N signed-in viewers on one channel
    the joins alone are N²/2 frames. Past ``announce_max`` subscribers on the node nobody is
    announced; presence still counts everyone, and announcing resumes below the limit."""
    bus = MemoryBus(100, 600)
    node = Node(bus, MemoryPresence(30), announce_max=2)
    await node.start()
    try:
        watched = Watched()
        users = [Principal(id=uuid.uuid4(), handle=f"viewer{n}", role="viewer") for n in range(3)]
        first = Connection(watched.send, watched.close, users[0], 10)
        others = [Connection(Socket().send, Socket().close, user, 10) for user in users[1:]]
        for connection in (first, *others):
            node.add(connection)
            await node.subscribe(connection, "video:1", 1, None)
        await bus.publish("video:1", b'{"n": 1}')  # after the joins on the bus: a fence
        assert len(await node.presence.members("video:1")) == 3

        async def frames_until_publication() -> list[object]:
            seen: list[object] = []
            while True:
                frame = protocol.server_decoder.decode(await asyncio.wait_for(watched.frames.get(), 5))
                seen.append(frame)
                if isinstance(frame, protocol.Publication):
                    return seen

        first_frames = await frames_until_publication()
        joined = [f.user.handle for f in first_frames if isinstance(f, protocol.Join)]
        assert joined == ["viewer0", "viewer1"]  # the third subscriber made 3 > 2: not announced

        await node.unsubscribe(others[1], "video:1")  # 3 subscribers as it leaves: not announced
        await node.unsubscribe(others[0], "video:1")  # 2 as it leaves: announced
        await bus.publish("video:1", b'{"n": 2}')
        left = [f.user.handle for f in await frames_until_publication() if isinstance(f, protocol.Leave)]
        assert left == ["viewer1"]
    finally:
        await node.stop()


class GatedBus(MemoryBus):
    """The in-memory bus whose subscribe waits at a gate, so a socket can close meanwhile."""

    def __init__(self) -> None:
        super().__init__(100, 600)
        self.entered = asyncio.Event()
        self.gate = asyncio.Event()

    async def subscribe(self, channel: str) -> None:
        self.entered.set()
        await self.gate.wait()
        await super().subscribe(channel)


async def test_a_socket_closed_while_its_subscribe_waits_on_the_bus_is_not_joined() -> None:
    """A subscribe still waiting on Redis when its socket closed raised ``KeyError`` (the close
    had taken its pending entry) and could still join the gone socket to the channel's presence."""
    bus = GatedBus()
    presence = MemoryPresence(30)
    node = Node(bus, presence)
    await node.start()
    socket = Socket()
    connection = Connection(socket.send, socket.close, None, 10)
    node.add(connection)
    subscribing = asyncio.create_task(node.subscribe(connection, "video:1", 1, None))
    await bus.entered.wait()
    removing = asyncio.create_task(node.remove(connection))
    bus.gate.set()
    await asyncio.gather(subscribing, removing)
    assert await presence.members("video:1") == {}
    assert "video:1" not in connection.channels
    assert node._subscribers == {} and node._on_bus == set() and dict(node._locks) == {}
    await node.stop()

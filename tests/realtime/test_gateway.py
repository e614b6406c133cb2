"""The gateway end to end: real server processes sharing one Redis, the reference client."""

from __future__ import annotations

import asyncio
import concurrent.futures
import signal
import socket
import uuid
from collections.abc import AsyncIterator

import asyncpg
import msgspec
import pytest
import websockets
from websockets.client import ClientProtocol
from websockets.frames import Close, Frame, Opcode
from websockets.protocol import State
from websockets.uri import parse_uri

from clients.websocket import Client, ClientError
from core.settings import Settings
from core.tokens import AccessTokens, Principal
from realtime import protocol
from realtime.bus.redis import RedisBus
from tests.processes import ServerProcess
from tests.users import person

HISTORY = 20


@pytest.fixture(scope="module")
def gateway_settings(settings: Settings) -> Settings:
    return msgspec.structs.replace(
        settings,
        bus_history_size=HISTORY,
        ws_send_queue=16,
        ws_max_message_bytes=4096,
        ws_message_rate="500/second",
    )


@pytest.fixture(scope="module")
async def instances(gateway_settings: Settings) -> AsyncIterator[list[ServerProcess]]:
    """Two gateway processes on one Redis."""
    servers = [ServerProcess(gateway_settings), ServerProcess(gateway_settings)]
    await asyncio.gather(*(s.start() for s in servers))
    yield servers
    for server in servers:
        if server.process is not None and server.process.returncode is None:
            await server.stop()


@pytest.fixture(scope="module")
async def publisher(gateway_settings: Settings) -> AsyncIterator[RedisBus]:
    bus = RedisBus(gateway_settings.redis_url, gateway_settings.redis_namespace, history_size=HISTORY)
    await bus.start()
    yield bus
    await bus.stop()


def token(settings: Settings, user: uuid.UUID | None = None, seconds: int = 900) -> str:
    """An access token of ``user`` (a new one by default), whose row exists: the gateway refuses
    the tokens of users that do not (any more). Synchronous, so that call sites stay plain
    expressions: the row is written on a loop of its own in a worker thread."""
    principal = Principal(id=user or uuid.uuid4(), handle=f"someone_{uuid.uuid4().hex[:12]}", role="viewer")

    async def insert() -> None:
        connection = await asyncpg.connect(settings.database_url)
        try:
            await connection.execute(
                "INSERT INTO users (id, handle, role) VALUES ($1, $2, 'viewer') ON CONFLICT (id) DO NOTHING",
                principal.id,
                principal.handle,
            )
        finally:
            await connection.close()

    with concurrent.futures.ThreadPoolExecutor(1) as worker:
        worker.submit(asyncio.run, insert()).result()
    return AccessTokens(settings.jwt_secret, settings.jwt_issuer, seconds).issue(principal)


def video() -> str:
    return f"video:{uuid.uuid4().hex[:10]}"


async def test_a_publication_reaches_clients_on_every_instance(
    instances: list[ServerProcess], publisher: RedisBus
) -> None:
    channel = video()
    clients = []
    for server in instances:
        client, connected = await Client.connect(server.ws_url)
        assert connected.user is None
        await client.subscribe(channel)
        clients.append(client)
    sent = await publisher.publish(channel, b'{"event":"comment.created","text":"hi"}')
    for client in clients:
        got = await client.publication()
        assert (got.channel, got.offset, bytes(got.data)) == (channel, sent.offset, sent.data)
        await client.close()


async def test_reconnecting_elsewhere_recovers_exactly_what_was_missed(
    instances: list[ServerProcess], publisher: RedisBus
) -> None:
    channel = video()
    first, _ = await Client.connect(instances[0].ws_url)
    await first.subscribe(channel)
    await publisher.publish(channel, b'{"n":0}')
    assert (await first.publication()).offset == 1
    await first.close()
    for n in range(1, 4):
        await publisher.publish(channel, f'{{"n":{n}}}'.encode())

    second, _ = await Client.connect(instances[1].ws_url)
    second.positions = first.positions
    reply = await second.subscribe(channel, recover=True)
    assert reply.recovered
    assert [p.offset for p in reply.publications] == [2, 3, 4]
    assert [msgspec.json.decode(p.data)["n"] for p in reply.publications] == [1, 2, 3]
    assert reply.offset == 4
    await publisher.publish(channel, b'{"n":4}')
    assert (await second.publication()).offset == 5
    await second.close()


async def test_recovery_beyond_the_history_reports_failure(
    instances: list[ServerProcess], publisher: RedisBus
) -> None:
    channel = video()
    client, _ = await Client.connect(instances[0].ws_url)
    await client.subscribe(channel)
    await client.close()
    for n in range(HISTORY + 5):
        await publisher.publish(channel, f'{{"n":{n}}}'.encode())
    again, _ = await Client.connect(instances[1].ws_url)
    again.positions = client.positions
    reply = await again.subscribe(channel, recover=True)
    assert not reply.recovered
    assert reply.publications == []
    assert reply.offset == HISTORY + 5
    await again.close()


async def test_channel_rules(instances: list[ServerProcess], gateway_settings: Settings) -> None:
    me = uuid.uuid4()
    anonymous, _ = await Client.connect(instances[0].ws_url)
    signed_in, connected = await Client.connect(instances[0].ws_url, token(gateway_settings, me))
    assert connected.user is not None and connected.user.id == str(me)
    assert connected.expires_in is not None and 890 <= connected.expires_in <= 900

    cases = [
        (anonymous, f"user:{me}", "unauthenticated"),
        (anonymous, "party:p1", "unauthenticated"),
        (signed_in, f"user:{uuid.uuid4()}", "forbidden"),
        (signed_in, "party:p1", "forbidden"),
        (signed_in, "lobby:1", "invalid_channel"),
        (signed_in, "video:has space", "invalid_channel"),
    ]
    for client, channel, code in cases:
        with pytest.raises(ClientError) as refused:
            await client.subscribe(channel)
        assert refused.value.error.code == code, channel
    assert (await signed_in.subscribe(f"user:{me}")).channel == f"user:{me}"
    with pytest.raises(ClientError) as twice:
        await signed_in.subscribe(f"user:{me}")
    assert twice.value.error.code == "already_subscribed"
    await anonymous.close()
    await signed_in.close()


async def test_a_private_video_channel_is_for_those_who_may_see_the_video(
    instances: list[ServerProcess], gateway_settings: Settings
) -> None:
    owner, member, stranger = [await person(gateway_settings) for _ in range(3)]
    video_id = uuid.uuid4()
    connection = await asyncpg.connect(gateway_settings.database_url)
    try:
        await connection.execute(
            "INSERT INTO videos (id, owner_id, title, visibility) VALUES ($1, $2, 'secret', 'private')",
            video_id,
            owner.id,
        )
        await connection.execute("INSERT INTO video_members VALUES ($1, $2)", video_id, member.id)
    finally:
        await connection.close()
    channel = f"video:{video_id}"
    for who, allowed in [(owner, True), (member, True), (stranger, False), (None, False)]:
        client, _ = await Client.connect(instances[1].ws_url, who.token if who else None)
        if allowed:
            assert (await client.subscribe(channel)).channel == channel
        else:
            with pytest.raises(ClientError) as refused:
                await client.subscribe(channel)
            assert refused.value.error.code == "forbidden"
        await client.close()


async def test_bad_messages_get_an_error_frame_and_the_connection_lives(
    instances: list[ServerProcess],
) -> None:
    client, _ = await Client.connect(instances[0].ws_url)
    for bad in ["not json", '{"type":"teleport"}', '{"type":"subscribe"}', "[]"]:
        await client.socket.send(bad)
        error = await asyncio.wait_for(client.events.get(), 5)
        assert isinstance(error, protocol.Error)
        assert error.code == "malformed"
    assert isinstance(await client.request(protocol.Ping()), protocol.Pong)
    await client.close()


@pytest.mark.parametrize(
    ("first", "code"),
    [
        ('{"type":"connect","token":"not-a-jwt"}', protocol.CLOSE_UNAUTHENTICATED),
        ('{"type":"subscribe","channel":"video:1"}', protocol.CLOSE_PROTOCOL_ERROR),
        ("garbage", protocol.CLOSE_PROTOCOL_ERROR),
    ],
)
async def test_a_bad_first_message_closes_with_a_documented_code(
    instances: list[ServerProcess], first: str, code: int
) -> None:
    async with websockets.connect(instances[0].ws_url) as socket:
        await socket.send(first)
        goodbye = protocol.server_decoder.decode(await socket.recv())
        assert isinstance(goodbye, protocol.Disconnect)
        assert goodbye.code == code
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await socket.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == code


async def test_an_oversized_message_closes_the_connection(instances: list[ServerProcess]) -> None:
    client, _ = await Client.connect(instances[0].ws_url)
    await client.socket.send('{"type":"ping","pad":"' + "x" * 5000 + '"}')
    goodbye = await client.closed()
    assert goodbye is not None and goodbye.code == protocol.CLOSE_TOO_BIG
    # The server is fine: a new connection works.
    again, _ = await Client.connect(instances[0].ws_url)
    assert isinstance(await again.request(protocol.Ping()), protocol.Pong)
    await again.close()


async def test_token_refresh_over_the_socket(
    instances: list[ServerProcess], gateway_settings: Settings
) -> None:
    me = uuid.uuid4()
    client, _ = await Client.connect(instances[0].ws_url, token(gateway_settings, me, seconds=60))
    reply = await client.request(protocol.Refresh(token=token(gateway_settings, me, seconds=600)))
    assert isinstance(reply, protocol.Refreshed) and 590 <= reply.expires_in <= 600
    with pytest.raises(ClientError) as other:
        await client.request(protocol.Refresh(token=token(gateway_settings, uuid.uuid4())))
    assert other.value.error.code == "other_user"
    await client.close()


async def test_an_expired_connection_is_closed(
    instances: list[ServerProcess], gateway_settings: Settings
) -> None:
    # ``exp`` is whole seconds from a truncated "now": a 1-second token may expire within a tenth of
    # a second, before a loaded machine has connected; a 2-second one lives 1 to 2 s.
    client, connected = await Client.connect(instances[0].ws_url, token(gateway_settings, seconds=2))
    assert connected.expires_in is not None and connected.expires_in <= 2
    goodbye = await client.closed(within=10)
    assert goodbye is not None and goodbye.code == protocol.CLOSE_TOKEN_EXPIRED
    assert goodbye.reconnect  # with a fresh token: the docs say "reconnect and recover"
    assert client.close_code == protocol.CLOSE_TOKEN_EXPIRED


async def test_sigterm_tells_clients_to_reconnect(gateway_settings: Settings) -> None:
    server = ServerProcess(gateway_settings)
    await server.start()
    client, _ = await Client.connect(server.ws_url)
    await client.subscribe(video())
    assert await server.stop(signal.SIGTERM) == 0
    goodbye = await client.closed()
    assert goodbye is not None
    assert goodbye.code == protocol.CLOSE_SHUTDOWN and goodbye.reconnect
    assert client.close_code == protocol.CLOSE_SHUTDOWN


async def test_kill_9_of_an_instance_loses_and_duplicates_nothing(
    gateway_settings: Settings, publisher: RedisBus
) -> None:
    doomed, survivor = ServerProcess(gateway_settings), ServerProcess(gateway_settings)
    await asyncio.gather(doomed.start(), survivor.start())
    channel = video()
    clients = [(await Client.connect(doomed.ws_url))[0] for _ in range(5)]
    for client in clients:
        await client.subscribe(channel)
    received: dict[int, list[int]] = {n: [] for n in range(len(clients))}

    async def publish(count: int) -> None:
        for _ in range(count):
            await publisher.publish(channel, b'{"event":"tick"}')

    await publish(8)
    for n, client in enumerate(clients):
        for _ in range(8):
            received[n].append((await client.publication()).offset)
    await publish(5)  # in flight while the instance dies: some clients may have them, some not
    await doomed.stop(signal.SIGKILL)
    await publish(5)  # published while nobody is connected

    for n, client in enumerate(clients):
        await client.closed()
        while not client.events.empty():  # what arrived before the socket died
            message = client.events.get_nowait()
            if isinstance(message, protocol.Publication):
                received[n].append(message.offset)
        again, _ = await Client.connect(survivor.ws_url)
        again.positions = {channel: protocol.Recover(client.positions[channel].epoch, received[n][-1])}
        reply = await again.subscribe(channel, recover=True)
        assert reply.recovered
        received[n].extend(p.offset for p in reply.publications)
        clients[n] = again
    await publish(4)
    for n, client in enumerate(clients):
        for _ in range(4):
            received[n].append((await client.publication()).offset)
        assert received[n] == list(range(1, 23)), f"client {n}: {received[n]}"
        await client.close()
    await survivor.stop()


async def test_presence_across_instances_with_join_and_leave(
    instances: list[ServerProcess], gateway_settings: Settings
) -> None:
    channel = video()
    ada_id, bob_id = uuid.uuid4(), uuid.uuid4()
    ada, _ = await Client.connect(instances[0].ws_url, token(gateway_settings, ada_id))
    await ada.subscribe(channel)
    watcher, _ = await Client.connect(instances[1].ws_url)
    await watcher.subscribe(channel)
    bob, _ = await Client.connect(instances[1].ws_url, token(gateway_settings, bob_id))
    await bob.subscribe(channel)

    joined = await asyncio.wait_for(ada.events.get(), 5)
    while not (isinstance(joined, protocol.Join) and joined.user.id == str(bob_id)):
        joined = await asyncio.wait_for(ada.events.get(), 5)

    state = await watcher.request(protocol.Presence(channel=channel))
    assert isinstance(state, protocol.PresenceState)
    assert state.count == 3  # two users and one anonymous connection
    assert {u.id for u in state.users} == {str(ada_id), str(bob_id)}

    await bob.close()
    left = await asyncio.wait_for(ada.events.get(), 5)
    while not isinstance(left, protocol.Leave):
        left = await asyncio.wait_for(ada.events.get(), 5)
    assert left.user.id == str(bob_id)
    state = await ada.request(protocol.Presence(channel=channel))
    assert isinstance(state, protocol.PresenceState) and state.count == 2

    with pytest.raises(ClientError) as unsubscribed:
        await ada.request(protocol.Presence(channel=video()))
    assert unsubscribed.value.error.code == "not_subscribed"
    await ada.close()
    await watcher.close()


@pytest.fixture(scope="module")
async def strict(gateway_settings: Settings) -> AsyncIterator[list[ServerProcess]]:
    """Two gateways with tight limits, on one Redis."""
    tight = msgspec.structs.replace(gateway_settings, ws_message_rate="5/minute", ws_max_subscriptions=2)
    servers = [ServerProcess(tight), ServerProcess(tight)]
    await asyncio.gather(*(s.start() for s in servers))
    yield servers
    for server in servers:
        await server.stop()


async def test_too_many_subscriptions_are_refused(strict: list[ServerProcess]) -> None:
    client, _ = await Client.connect(strict[0].ws_url)
    await client.subscribe(video())
    await client.subscribe(video())
    with pytest.raises(ClientError) as refused:
        await client.subscribe(video())
    assert refused.value.error.code == "too_many_subscriptions"
    await client.close()


async def test_a_flood_of_messages_closes_the_connection(
    strict: list[ServerProcess], gateway_settings: Settings
) -> None:
    me = uuid.uuid4()
    client, _ = await Client.connect(strict[0].ws_url, token(gateway_settings, me))
    for _ in range(5):
        await client.request(protocol.Ping())
    await client.socket.send('{"type":"ping","id":99}')
    goodbye = await client.closed()
    assert goodbye is not None and goodbye.code == protocol.CLOSE_TOO_FAST
    # The limit is per user and shared by the instances: the same user's next connection, on
    # the other instance, is limited too; another user is not.
    again, _ = await Client.connect(strict[1].ws_url, token(gateway_settings, me))
    await again.socket.send('{"type":"ping","id":1}')
    goodbye = await again.closed()
    assert goodbye is not None and goodbye.code == protocol.CLOSE_TOO_FAST
    other, _ = await Client.connect(strict[1].ws_url, token(gateway_settings))
    assert isinstance(await other.request(protocol.Ping()), protocol.Pong)
    await other.close()


class UnreadSocket:
    """A websocket client that connects, subscribes, then stops reading: its TCP receive window
    (a 4 KB buffer) fills and the server's send queue for it overflows. Sans-I/O websockets over
    a raw socket, so no library reads on its behalf."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.protocol = ClientProtocol(parse_uri(f"ws://127.0.0.1:{port}/ws"))
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.setblocking(False)
        self.frames: list[Frame] = []

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        for chunk in self.protocol.data_to_send():
            await loop.sock_sendall(self.sock, chunk)

    async def _frame(self) -> Frame:
        loop = asyncio.get_running_loop()
        while True:
            self.frames += [e for e in self.protocol.events_received() if isinstance(e, Frame)]
            if self.frames:
                return self.frames.pop(0)
            data = await loop.sock_recv(self.sock, 65536)
            self.protocol.receive_data(data)
            if not data:
                raise ConnectionError("closed")

    async def open(self, token: str, channel: str) -> None:
        await asyncio.get_running_loop().sock_connect(self.sock, ("127.0.0.1", self.port))
        self.protocol.send_request(self.protocol.connect())
        await self._flush()
        while self.protocol.state is not State.OPEN:  # the handshake response
            data = await asyncio.get_running_loop().sock_recv(self.sock, 65536)
            assert data, "the server closed during the handshake"
            self.protocol.receive_data(data)
        for message in (protocol.Connect(token=token), protocol.Subscribe(channel=channel, id=1)):
            self.protocol.send_text(protocol.encoder.encode(message))
            await self._flush()
            reply = protocol.server_decoder.decode(bytes((await self._frame()).data))
            assert isinstance(reply, protocol.Connected | protocol.Subscribed)

    async def close_code(self) -> int | None:
        """Read what is left; the close frame's code, if one came."""
        while True:
            try:
                frame = await asyncio.wait_for(self._frame(), 30)
            except ConnectionError:
                return None
            if frame.opcode is Opcode.CLOSE:
                return Close.parse(bytes(frame.data)).code


async def test_a_slow_consumer_is_cut_off_while_others_keep_receiving(
    instances: list[ServerProcess], publisher: RedisBus, gateway_settings: Settings
) -> None:
    channel = video()
    slow_user = uuid.uuid4()
    slow = UnreadSocket(instances[0].port)
    await slow.open(token(gateway_settings, slow_user), channel)
    reader, _ = await Client.connect(instances[0].ws_url, token(gateway_settings))
    await reader.subscribe(channel)
    big = msgspec.json.encode({"text": "x" * 60_000})
    published = 0
    slow_left = False
    while not slow_left:
        assert published < 1000, "the slow consumer was never cut off"
        sent = await publisher.publish(channel, big)
        published += 1
        while True:  # each publication reaches the reader; the slow user's leave may come first
            event = await asyncio.wait_for(reader.events.get(), 10)
            if isinstance(event, protocol.Leave) and event.user.id == str(slow_user):
                slow_left = True
            elif isinstance(event, protocol.Publication):
                assert event.offset == sent.offset
                break
    # The others go on receiving after the cut-off.
    after = await publisher.publish(channel, b'"after"')
    assert (await reader.publication()).offset == after.offset
    await reader.close()
    assert await slow.close_code() == protocol.CLOSE_SLOW_CONSUMER
    # Queue (16) + kernel buffers hold a bounded number of 60 KB frames, never all of them.
    assert published > gateway_settings.ws_send_queue


async def test_a_client_that_stops_answering_pings_is_dropped(
    gateway_settings: Settings,
) -> None:
    server = ServerProcess(msgspec.structs.replace(gateway_settings, ws_ping_seconds=0.5))
    await server.start()
    channel = video()
    watcher, _ = await Client.connect(server.ws_url)  # its library answers pings
    await watcher.subscribe(channel)
    silent_user = uuid.uuid4()
    silent = UnreadSocket(server.port)  # answers nothing once open
    await silent.open(token(gateway_settings, silent_user), channel)
    left = await asyncio.wait_for(watcher.events.get(), 10)
    while not (isinstance(left, protocol.Leave) and left.user.id == str(silent_user)):
        left = await asyncio.wait_for(watcher.events.get(), 10)
    # Sent frames since it connected and never answered a ping: a slow consumer (1011 is for one
    # sent nothing since its last pong).
    assert await silent.close_code() == protocol.CLOSE_SLOW_CONSUMER
    # The watcher has been pinged all along and is still served.
    assert isinstance(await watcher.request(protocol.Ping(id=7)), protocol.Pong)
    await watcher.close()
    await server.stop()


async def test_many_clients_dropping_at_once_leave_no_task_exception_behind(
    gateway_settings: Settings, publisher: RedisBus
) -> None:
    """Clients vanish (no close frame) while frames are still being written to them: every writer
    and clean-up task must end quietly, never as "Task exception was never retrieved"."""
    server = ServerProcess(msgspec.structs.replace(gateway_settings, ws_send_queue=1024))
    await server.start()
    try:
        channel = video()
        watcher, _ = await Client.connect(server.ws_url)
        await watcher.subscribe(channel)
        big = msgspec.json.encode({"text": "x" * 30_000})
        for _ in range(2):
            people = [await person(gateway_settings) for _ in range(30)]
            clients = [(await Client.connect(server.ws_url, who.token))[0] for who in people]
            for client in clients:
                await client.subscribe(channel)
            for _ in range(10):
                await publisher.publish(channel, big)
            for client in clients:
                client.socket.transport.abort()  # type: ignore[attr-defined]
            gone = {str(who.id) for who in people}
            while gone:  # every dropped client's leave reaches the watcher
                event = await asyncio.wait_for(watcher.events.get(), 20)
                if isinstance(event, protocol.Leave):
                    gone.discard(event.user.id)
        assert isinstance(await watcher.request(protocol.Ping()), protocol.Pong)
        await watcher.close()
    finally:
        assert await server.stop() == 0
    log = "".join(server.lines)
    assert log.count("never retrieved") == 0
    assert log.count("Traceback") == 0


async def test_a_connection_hears_its_own_join_and_never_its_own_leave(
    instances: list[ServerProcess], gateway_settings: Settings
) -> None:
    me = await person(gateway_settings)
    client, _ = await Client.connect(instances[0].ws_url, me.token)
    for _ in range(5):
        channel = video()
        await client.subscribe(channel)
        joined = await asyncio.wait_for(client.events.get(), 5)
        assert joined == protocol.Join(channel=channel, user=protocol.User(id=str(me.id), handle=me.handle))
        assert isinstance(await client.request(protocol.Unsubscribe(channel=channel)), protocol.Unsubscribed)
        assert isinstance(await client.request(protocol.Ping()), protocol.Pong)
        assert client.events.empty(), client.events.get_nowait()
    await client.close()

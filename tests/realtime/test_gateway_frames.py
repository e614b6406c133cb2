"""What the gateway answers to frames a client should not send: each gets exactly what
docs/protocol.md says ("Frames", "Error codes", "Close codes"), and the socket lives when it says so."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import msgspec
import pytest
import websockets

from clients.websocket import Client
from core.settings import Settings
from realtime import protocol
from tests.processes import ServerProcess

# About 2 KB of nesting, deeper than any decoder's recursion allows, where a decoder must descend.
DEEP = '{"type":"ping","id":3,"pad":' + "[" * 2048 + "]" * 2048 + "}"
DEEP_OBJECT = '{"a":' * 1024 + "1" + "}" * 1024


@pytest.fixture(scope="module")
async def server(settings: Settings) -> AsyncIterator[ServerProcess]:
    process = ServerProcess(msgspec.structs.replace(settings, ws_message_rate="500/second"))
    await process.start()
    yield process
    await process.stop()


async def reply_to(client: Client, frame: str | bytes) -> protocol.ServerMessage:
    await client.socket.send(frame)
    return await asyncio.wait_for(client.events.get(), 5)


async def still_answers(client: Client) -> None:
    assert isinstance(await client.request(protocol.Ping()), protocol.Pong)


@pytest.mark.parametrize(
    "frame",
    [
        '{"type":"teleport","id":7}',  # an unknown type
        '{"type":"subscribe","id":7,"channel":5}',  # a field of the wrong type
        '{"type":"subscribe","id":7}',  # a missing field
        '{"type":"party_command","id":7,"party":"p","action":"dance","version":1}',  # unknown action
        '{"id":7}',  # no type at all
    ],
)
async def test_a_frame_that_misfits_the_schema_gets_malformed_with_its_id(
    server: ServerProcess, frame: str
) -> None:
    client, _ = await Client.connect(server.ws_url)
    error = await reply_to(client, frame)
    assert isinstance(error, protocol.Error)
    assert (error.id, error.code) == (7, "malformed")
    await still_answers(client)
    await client.close()


@pytest.mark.parametrize(
    "frame",
    [
        '{"type":"ping","id":"7"}',
        '{"type":"ping","id":true}',
        '{"type":"ping","id":7.5}',
        "[7]",
        "not json",
        '{"type":"ping","id":7',  # cut short
    ],
)
async def test_a_frame_without_a_readable_integer_id_gets_malformed_with_a_null_id(
    server: ServerProcess, frame: str
) -> None:
    client, _ = await Client.connect(server.ws_url)
    error = await reply_to(client, frame)
    assert isinstance(error, protocol.Error)
    assert (error.id, error.code) == (None, "malformed")
    await client.close()


@pytest.mark.parametrize("frame", [DEEP, DEEP_OBJECT, "[" * 2048])
async def test_deep_nesting_after_connect_is_malformed_and_the_socket_lives(
    server: ServerProcess, frame: str
) -> None:
    client, _ = await Client.connect(server.ws_url)
    error = await reply_to(client, frame)
    assert isinstance(error, protocol.Error)
    assert (error.id, error.code) == (None, "malformed")
    await still_answers(client)
    await client.close()


async def test_a_binary_frame_gets_binary_frame_and_the_socket_lives(server: ServerProcess) -> None:
    client, _ = await Client.connect(server.ws_url)
    for frame in [b'{"type":"ping","id":5}', b"", b"\xff\x00"]:
        error = await reply_to(client, frame)
        assert isinstance(error, protocol.Error)
        assert (error.id, error.code) == (None, "binary_frame")
    await still_answers(client)
    await client.close()


@pytest.mark.parametrize(
    "first",
    [
        DEEP.replace("ping", "connect"),
        DEEP_OBJECT,
        b'{"type":"connect","id":1}',
        "",
        '{"type":"connect","id":"1"}',
    ],
)
async def test_a_first_frame_that_is_not_a_connect_closes_with_protocol_error(
    server: ServerProcess, first: str | bytes
) -> None:
    async with websockets.connect(server.ws_url) as socket:
        await socket.send(first)
        goodbye = protocol.server_decoder.decode(await socket.recv())
        assert isinstance(goodbye, protocol.Disconnect)
        assert (goodbye.code, goodbye.reconnect) == (protocol.CLOSE_PROTOCOL_ERROR, False)
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await socket.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == protocol.CLOSE_PROTOCOL_ERROR
    assert not any("Traceback" in line for line in server.lines)

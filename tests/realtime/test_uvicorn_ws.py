"""The lean uvicorn websocket protocol: its queue and gate, and a real uvicorn server using it."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
import websockets

from realtime.uvicorn_ws import LeanWebSocketProtocol, _Gate, _Inbox


async def test_the_inbox_hands_events_over_in_order_to_a_waiting_receiver() -> None:
    inbox = _Inbox()
    assert inbox.empty()
    receiving = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)  # the receiver is now waiting
    inbox.put_nowait({"type": "websocket.connect"})
    inbox.put_nowait({"type": "websocket.receive", "text": "a"})
    assert await receiving == {"type": "websocket.connect"}
    assert await inbox.get() == {"type": "websocket.receive", "text": "a"}
    assert inbox.empty()


async def test_a_cancelled_receive_leaves_the_inbox_usable_and_one_receiver_at_a_time() -> None:
    inbox = _Inbox()
    first = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError):
        await inbox.get()
    first.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await first
    inbox.put_nowait({"type": "websocket.disconnect", "code": 1000})
    assert await inbox.get() == {"type": "websocket.disconnect", "code": 1000}


async def test_the_gate_holds_writers_while_paused_and_one_cancelled_writer_frees_no_other() -> None:
    gate = _Gate()
    await gate.wait()  # open: returns at once
    gate.clear()
    stuck = asyncio.create_task(gate.wait())
    other = asyncio.create_task(gate.wait())
    await asyncio.sleep(0)
    stuck.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await stuck
    assert not other.done()
    gate.set()
    await asyncio.wait_for(other, 5)


async def echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    assert scope["type"] == "websocket"
    assert dict(scope["headers"])[b"upgrade"] == b"websocket"  # the app sees the handshake
    await receive()
    await send({"type": "websocket.accept"})
    while (event := await receive())["type"] == "websocket.receive":
        await send({"type": "websocket.send", "text": event["text"]})


@pytest.fixture
async def echo_server() -> AsyncIterator[tuple[uvicorn.Server, str]]:
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen()
    port = listening.getsockname()[1]
    config = uvicorn.Config(echo, ws=LeanWebSocketProtocol, lifespan="off", log_config=None)
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve(sockets=[listening]))
    yield server, f"ws://127.0.0.1:{port}/"
    server.should_exit = True
    await asyncio.wait_for(serving, 10)
    listening.close()


async def test_an_open_socket_keeps_no_handshake_and_still_talks(
    echo_server: tuple[uvicorn.Server, str],
) -> None:
    server, url = echo_server
    async with websockets.connect(url, additional_headers={"X-Big": "x" * 2000}) as client:
        await client.send("hello")
        assert await client.recv() == "hello"
        (protocol,) = server.server_state.connections
        assert isinstance(protocol, LeanWebSocketProtocol)
        assert not hasattr(protocol, "request") and not hasattr(protocol, "response")
        await client.send("again")
        assert await client.recv() == "again"

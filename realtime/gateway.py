"""``/ws``: one websocket per client, authenticated by its first message, many channels on it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any, Protocol, cast

from limits import parse
from limits.aio.storage import Storage
from limits.aio.strategies import FixedWindowRateLimiter
from litestar import WebSocket, websocket
from litestar.di import NamedDependency
from litestar.exceptions import WebSocketDisconnect
from litestar.types import WebSocketDisconnectEvent, WebSocketReceiveEvent

from core.errors import OUTAGES, Unauthorized
from core.outages import outage_of
from core.settings import Settings
from core.tokens import Principal
from realtime import protocol
from realtime.bus.base import BusUnavailable
from realtime.channels import ChannelDenied, ChannelRules, authorize_read
from realtime.clock import server_now_ms
from realtime.connection import Connection, outlet, sink_of, transport_of
from realtime.node import Node

log = logging.getLogger("mydrtv.gateway")


class Tokens(Protocol):
    """Verifies a token and reads the user's current role (``app.auth.principals.Principals``)."""

    async def verify(self, token: str) -> Principal: ...


class PartyMessages(Protocol):
    """Answers watch-party messages (``app.parties.socket.PartySocket``)."""

    async def handle(self, connection: Connection, message: protocol.PartyMessage) -> None: ...

    async def closed(self, connection: Connection) -> None: ...


class Gateway:
    """What the socket handler needs: the node, token checks, limits and channel rules.

    The inbound rate is counted in ``limits`` storage: with Redis, one count per user across every
    instance, so opening sockets on several instances does not multiply a user's allowance."""

    def __init__(
        self,
        node: Node,
        tokens: Tokens,
        settings: Settings,
        rules: ChannelRules,
        rate_storage: Storage,
        parties: PartyMessages | None = None,
    ) -> None:
        self.node = node
        self.parties = parties
        self.tokens = tokens
        self.settings = settings
        self.rules = rules
        self._rate = parse(settings.ws_message_rate)
        self._limiter = FixedWindowRateLimiter(rate_storage)

    async def allow(self, connection: Connection) -> bool:
        who = str(connection.principal.id) if connection.principal else connection.id
        return await self._limiter.hit(self._rate, "ws", who)


def _seconds_left(principal: Principal) -> int:
    return max(0, (principal.expires_at or 0) - int(time.time()))


@websocket("/ws")
async def gateway_socket(socket: WebSocket[Any, Any, Any], gateway: NamedDependency[Gateway]) -> None:
    """The realtime gateway; docs/protocol.md describes the conversation."""
    await socket.accept()
    settings = gateway.settings
    try:
        greeting = await _greet(socket, gateway)
    except Exception as exc:  # Litestar would close with 4500, which here means "token refused"
        outage = _outage(exc, "connect")
        if outage is None:
            log.exception("the websocket failed before connected")
            await _refuse(socket, protocol.CLOSE_INTERNAL_ERROR, "internal server error")
        else:  # the client reconnects with backoff, as after any retryable close
            await _refuse(socket, protocol.CLOSE_UNAVAILABLE, outage[1])
        return
    if greeting is None:
        return
    request_id, principal = greeting
    expires_in = _seconds_left(principal) if principal is not None else None
    connection = Connection(
        socket.send_text,
        socket.close,
        principal,
        settings.ws_send_queue,
        on_close=gateway.node.drop,
        buffer_bytes=settings.ws_send_buffer_bytes,
        transport=transport_of(socket.scope),
        sink=sink_of(socket.scope),
        outlet=outlet(settings.ws_write_coalesce_ms / 1000),
    )
    gateway.node.add(connection)
    expiry = _expire_later(connection, expires_in)
    connection.send_message(
        protocol.Connected(
            id=request_id,
            client=connection.id,
            user=protocol.User(id=str(principal.id), handle=principal.handle) if principal else None,
            expires_in=expires_in,
        )
    )
    try:
        while connection.closing is None:
            # No local keeps the message: an idle socket should not hold its last one.
            expiry = await _handle(gateway, connection, await _receive(socket), expiry)
    except WebSocketDisconnect:
        connection.abandon()  # the client went away, or the writer closed the socket
    except Exception:
        log.exception("the websocket failed")
        connection.close(protocol.CLOSE_INTERNAL_ERROR, "internal server error")
    finally:
        if expiry is not None:
            expiry.cancel()
        if gateway.parties is not None:
            try:
                await gateway.parties.closed(connection)
            except Exception:
                log.exception("party clean-up failed")
        try:
            await gateway.node.remove(connection)
        except Exception as exc:
            log.warning("could not remove a closed connection: %r", exc, exc_info=outage_of(exc) is None)
        if connection.writer is not None:  # the goodbye, if one is on its way
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(connection.writer, 5)


async def _receive(socket: WebSocket[Any, Any, Any]) -> str | bytes:
    """The next frame: text as ``str``, binary as ``bytes`` (``receive_text`` cannot tell an
    empty text frame from a binary one)."""
    event = cast("WebSocketReceiveEvent | WebSocketDisconnectEvent", await socket.receive())
    if event["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(detail="disconnect event", code=event.get("code", 1000))
    text = event.get("text")
    if text is not None:
        return text
    return event.get("bytes") or b""


async def _greet(socket: WebSocket[Any, Any, Any], gateway: Gateway) -> tuple[int, Principal | None] | None:
    """Wait for the connect message: its request id and who it signs in, or None once refused.

    A function of its own so that the message and its token are freed once it returns, rather
    than kept for the socket's life by the handler's frame."""
    settings = gateway.settings
    try:
        first = await asyncio.wait_for(_receive(socket), settings.ws_connect_timeout)
    except TimeoutError:
        await _refuse(socket, protocol.CLOSE_CONNECT_TIMEOUT, "no connect message in time")
        return None
    except WebSocketDisconnect:
        return None
    if len(first if isinstance(first, bytes) else first.encode()) > settings.ws_max_message_bytes:
        await _refuse(
            socket, protocol.CLOSE_TOO_BIG, f"messages are limited to {settings.ws_max_message_bytes} bytes"
        )
        return None
    if isinstance(first, bytes):
        await _refuse(socket, protocol.CLOSE_PROTOCOL_ERROR, "the first message must be a connect text frame")
        return None
    try:
        hello = protocol.decode(first)
    except protocol.Malformed as exc:
        await _refuse(socket, protocol.CLOSE_PROTOCOL_ERROR, f"malformed message: {exc.message}")
        return None
    if not isinstance(hello, protocol.Connect):
        await _refuse(socket, protocol.CLOSE_PROTOCOL_ERROR, "the first message must be connect")
        return None
    if hello.token is None:
        return hello.id, None
    try:
        return hello.id, await gateway.tokens.verify(hello.token)
    except Unauthorized as exc:
        await _refuse(socket, protocol.CLOSE_UNAUTHENTICATED, exc.message)
        return None


def _expire_later(connection: Connection, seconds: int | None) -> asyncio.TimerHandle | None:
    if seconds is None:
        return None
    return asyncio.get_running_loop().call_later(
        seconds, connection.close, protocol.CLOSE_TOKEN_EXPIRED, "the access token expired"
    )


async def _handle(
    gateway: Gateway, connection: Connection, frame: str | bytes, expiry: asyncio.TimerHandle | None
) -> asyncio.TimerHandle | None:
    received = server_now_ms()  # t2 of a time_sync: before anything else takes time
    settings = gateway.settings
    if len(frame if isinstance(frame, bytes) else frame.encode()) > settings.ws_max_message_bytes:
        connection.close(
            protocol.CLOSE_TOO_BIG, f"messages are limited to {settings.ws_max_message_bytes} bytes"
        )
        return expiry
    if not await gateway.allow(connection):
        connection.close(protocol.CLOSE_TOO_FAST, f"more than {settings.ws_message_rate} messages")
        return expiry
    if isinstance(frame, bytes):
        connection.send_message(
            protocol.Error(id=None, code="binary_frame", message="messages are JSON in text frames")
        )
        return expiry
    try:
        message = protocol.decode(frame)
    except protocol.Malformed as exc:
        connection.send_message(protocol.Error(id=exc.request_id, code="malformed", message=exc.message))
        return expiry
    try:
        return await _answer(gateway, connection, message, received, expiry)
    except BusUnavailable as exc:
        # Nothing was promised to the client: it reconnects (with backoff) and recovers. The bus
        # logs its outage once; a line per refused subscribe would flood the log meanwhile.
        log.debug("the bus is unavailable: %s", exc)
        connection.close(protocol.CLOSE_BUS_GAP, "delivery is interrupted inside the server; reconnect")
        return expiry
    except Exception as exc:
        # A backend (Redis, PostgreSQL) away, or a bug: this request fails, the socket lives.
        outage = _outage(exc, type(message).__name__)
        if outage is not None:
            connection.send_message(protocol.Error(id=message.id, code=outage[0], message=outage[1]))
            return expiry
        log.exception("a websocket request failed", extra={"type": type(message).__name__})
        connection.send_message(
            protocol.Error(id=message.id, code="internal_error", message="the server could not answer this")
        )
        return expiry


async def _answer(
    gateway: Gateway,
    connection: Connection,
    message: protocol.ClientMessage,
    received: float,
    expiry: asyncio.TimerHandle | None,
) -> asyncio.TimerHandle | None:
    settings = gateway.settings

    def error(code: str, text: str) -> None:
        connection.send_message(protocol.Error(id=message.id, code=code, message=text))

    match message:
        case protocol.Subscribe(channel=channel, id=request_id, recover=recover):
            if channel in connection.channels:
                error("already_subscribed", f"already subscribed to {channel}")
            elif len(connection.channels) >= settings.ws_max_subscriptions:
                error("too_many_subscriptions", f"at most {settings.ws_max_subscriptions} channels")
            else:
                try:
                    await authorize_read(channel, connection.principal, gateway.rules)
                except ChannelDenied as denied:
                    error(denied.code, denied.message)
                else:
                    await gateway.node.subscribe(connection, channel, request_id, recover)
        case protocol.Unsubscribe(channel=channel, id=request_id):
            if channel not in connection.channels:
                error("not_subscribed", f"not subscribed to {channel}")
            else:
                await gateway.node.unsubscribe(connection, channel)
                connection.send_message(protocol.Unsubscribed(id=request_id, channel=channel))
        case protocol.Refresh(token=token, id=request_id):
            try:
                principal = await gateway.tokens.verify(token)
            except Unauthorized as exc:
                error(exc.code, exc.message)
            else:
                if connection.principal is not None and principal.id != connection.principal.id:
                    error("other_user", "a connection cannot change its user")
                else:
                    connection.principal = principal
                    if expiry is not None:
                        expiry.cancel()
                    seconds = _seconds_left(principal)
                    expiry = _expire_later(connection, seconds)
                    connection.send_message(protocol.Refreshed(id=request_id, expires_in=seconds))
        case protocol.Ping(id=request_id):
            connection.send_message(protocol.Pong(id=request_id))
        case protocol.Presence(channel=channel, id=request_id):
            if channel not in connection.channels:
                error("not_subscribed", f"subscribe to {channel} to see who is there")
            else:
                members = await gateway.node.presence.members(channel)
                users = {user.id: user for user in members.values() if user is not None}
                connection.send_message(
                    protocol.PresenceState(
                        id=request_id, channel=channel, count=len(members), users=list(users.values())
                    )
                )
        case protocol.Connect():
            error("already_connected", "this connection is already connected")
        case protocol.TimeSync(client_sent=sent, id=request_id):
            connection.send_message(
                protocol.TimeSynced(
                    id=request_id, client_sent=sent, server_received=received, server_sent=server_now_ms()
                )
            )
        case (
            protocol.PartyGet()
            | protocol.PartyCommand()
            | protocol.PartyStatus()
            | protocol.PartyChat()
            | protocol.PartyReact()
        ):
            await _party(gateway, connection, message)
    return expiry


async def _party(gateway: Gateway, connection: Connection, message: protocol.PartyMessage) -> None:
    if gateway.parties is None:
        connection.send_message(
            protocol.Error(id=message.id, code="unavailable", message="watch parties are not served here")
        )
    else:
        await gateway.parties.handle(connection, message)


def _outage(exc: Exception, request: str) -> tuple[str, str] | None:
    """The reply's code and message if ``exc`` says a backend is away (``core.outages``), logged in
    one line without a traceback (an outage fails many requests alike); None for anything else."""
    backend = outage_of(exc)
    if backend is None:
        return None
    code, message = OUTAGES[backend]
    log.warning("a websocket %s failed: %s: %s: %s", request, code, type(exc).__name__, exc)
    return code, message


async def _refuse(socket: WebSocket[Any, Any, Any], code: int, reason: str) -> None:
    goodbye = protocol.Disconnect(code=code, reason=reason, reconnect=protocol.reconnects(code))
    with contextlib.suppress(Exception):  # the client may be gone already
        await socket.send_text(protocol.encoder.encode(goodbye).decode())
        await socket.close(code, protocol.close_reason(reason))

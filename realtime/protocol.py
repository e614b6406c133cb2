"""The websocket protocol's messages: defined once, used by the gateway, the client and tests.

Frames are JSON text, one message each, tagged by ``type``. ``docs/protocol.md`` describes them.
"""

from __future__ import annotations

from typing import Any

import msgspec

# Close codes (4000-4999 are the application's; see docs/protocol.md).
CLOSE_PROTOCOL_ERROR = 4000  # malformed or unknown message, or not starting with connect
CLOSE_UNAUTHENTICATED = 4001  # the connect token was refused
CLOSE_TOKEN_EXPIRED = 4002  # the token expired and was not refreshed in time
CLOSE_SLOW_CONSUMER = 4008  # the client did not read fast enough; its send queue overflowed
CLOSE_TOO_BIG = 4009  # a message over the size limit
CLOSE_TOO_FAST = 4010  # too many messages per second
CLOSE_SHUTDOWN = 4011  # the server is going away; reconnect (to another instance)
CLOSE_CONNECT_TIMEOUT = 4012  # no connect message in time
CLOSE_BUS_GAP = 4013  # delivery was interrupted inside the server; reconnect and recover


class Recover(msgspec.Struct, frozen=True):
    epoch: str
    offset: int


# Client to server -------------------------------------------------------------------------------


class Connect(msgspec.Struct, tag="connect", frozen=True):
    id: int = 0
    token: str | None = None  # a JWT access token; none: anonymous, public channels only


class Subscribe(msgspec.Struct, tag="subscribe", frozen=True):
    channel: str
    id: int = 0
    recover: Recover | None = None  # where the client stopped: get everything since


class Unsubscribe(msgspec.Struct, tag="unsubscribe", frozen=True):
    channel: str
    id: int = 0


class Refresh(msgspec.Struct, tag="refresh", frozen=True):
    token: str
    id: int = 0


class Presence(msgspec.Struct, tag="presence", frozen=True):
    channel: str
    id: int = 0


class Ping(msgspec.Struct, tag="ping", frozen=True):
    id: int = 0


ClientMessage = Connect | Subscribe | Unsubscribe | Refresh | Presence | Ping


# Server to client -------------------------------------------------------------------------------


class User(msgspec.Struct, frozen=True):
    id: str
    handle: str


class Connected(msgspec.Struct, tag="connected", frozen=True):
    id: int
    client: str
    user: User | None
    expires_in: int | None  # seconds until the token expires; refresh before then


class Publication(msgspec.Struct, tag="publication", frozen=True):
    channel: str
    epoch: str
    offset: int
    data: msgspec.Raw  # the event as its publisher encoded it


class Subscribed(msgspec.Struct, tag="subscribed", frozen=True):
    id: int
    channel: str
    epoch: str
    offset: int
    recovered: bool  # true when ``publications`` holds everything missed since ``recover``
    publications: list[Publication] = []


class Unsubscribed(msgspec.Struct, tag="unsubscribed", frozen=True):
    id: int
    channel: str


class Refreshed(msgspec.Struct, tag="refreshed", frozen=True):
    id: int
    expires_in: int


class PresenceState(msgspec.Struct, tag="presence_state", frozen=True):
    id: int
    channel: str
    count: int
    users: list[User]


class Join(msgspec.Struct, tag="join", frozen=True):
    channel: str
    user: User


class Leave(msgspec.Struct, tag="leave", frozen=True):
    channel: str
    user: User


class Pong(msgspec.Struct, tag="pong", frozen=True):
    id: int


class Error(msgspec.Struct, tag="error", frozen=True):
    id: int | None
    code: str
    message: str
    details: Any = None


class Disconnect(msgspec.Struct, tag="disconnect", frozen=True):
    code: int
    reason: str
    reconnect: bool


ServerMessage = (
    Connected
    | Publication
    | Subscribed
    | Unsubscribed
    | Refreshed
    | PresenceState
    | Join
    | Leave
    | Pong
    | Error
    | Disconnect
)

client_decoder = msgspec.json.Decoder(ClientMessage)
server_decoder = msgspec.json.Decoder(ServerMessage)
encoder = msgspec.json.Encoder()

"""The websocket protocol's messages: defined once, used by the gateway, the client and tests.

Frames are JSON text, one message each, tagged by ``type``. ``docs/protocol.md`` describes them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

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
CLOSE_ROLE_CHANGED = 4014  # the user's role changed; reconnect (channels are authorized again)


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


class TimeSync(msgspec.Struct, tag="time_sync", frozen=True):
    """One NTP-style clock exchange: the reply stamps when the server received and answered it."""

    client_sent: float  # the client's clock, milliseconds
    id: int = 0


# Watch parties (realtime/parties; docs/protocol.md "Watch parties"). ``party`` is the party id.

PartyAction = Literal["play", "pause", "seek", "rate", "video"]


class PartyGet(msgspec.Struct, tag="party_get", frozen=True):
    party: str
    id: int = 0


class PartyCommand(msgspec.Struct, tag="party_command", frozen=True):
    party: str
    action: PartyAction
    version: int  # the playback version the command was made against
    id: int = 0
    position: float | None = None  # seek: seconds
    rate: float | None = None  # rate
    video_id: str | None = None  # video


class PartyStatus(msgspec.Struct, tag="party_status", frozen=True):
    party: str
    buffering: bool = False  # true while this connection's player cannot play
    rtt_ms: float | None = None  # this connection's round trip (a high quantile), for scheduling
    id: int = 0


class PartyChat(msgspec.Struct, tag="party_chat", frozen=True):
    party: str
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
    position: float | None = None  # seconds into the video; default: the party's position now
    id: int = 0


class PartyReact(msgspec.Struct, tag="party_react", frozen=True):
    party: str
    emoji: Annotated[str, msgspec.Meta(min_length=1, max_length=16)]
    position: float | None = None
    id: int = 0


PartyMessage = PartyGet | PartyCommand | PartyStatus | PartyChat | PartyReact

ClientMessage = (
    Connect
    | Subscribe
    | Unsubscribe
    | Refresh
    | Presence
    | Ping
    | TimeSync
    | PartyGet
    | PartyCommand
    | PartyStatus
    | PartyChat
    | PartyReact
)


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


class Event(msgspec.Struct, tag="event", frozen=True):
    """An ephemeral event of a channel (progress, say): delivered live only, never recovered."""

    channel: str
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


class TimeSynced(msgspec.Struct, tag="time_synced", frozen=True):
    id: int
    client_sent: float  # t1, echoed
    server_received: float  # t2, server clock (ms since the epoch)
    server_sent: float  # t3, server clock


class PartyState(msgspec.Struct, tag="party_state", frozen=True):
    """Reply to party_get, party_command and party_status: the party as it is now."""

    id: int
    party: str
    state: msgspec.Raw  # realtime.parties.events.PartyView


class PartySent(msgspec.Struct, tag="party_sent", frozen=True):
    """Reply to party_chat (``message_id`` of the stored message) and party_react (null)."""

    id: int
    party: str
    message_id: int | None = None


class PartyReaction(msgspec.Struct, tag="party_reaction", frozen=True):
    """An ephemeral reaction on a party channel (never recovered), like join and leave."""

    channel: str
    user: User
    emoji: str
    video_id: str
    position: float  # seconds into ``video_id``
    server_time: float


ServerMessage = (
    Connected
    | Publication
    | Event
    | Subscribed
    | Unsubscribed
    | Refreshed
    | PresenceState
    | Join
    | Leave
    | Pong
    | Error
    | Disconnect
    | TimeSynced
    | PartyState
    | PartySent
    | PartyReaction
)

client_decoder = msgspec.json.Decoder(ClientMessage)
server_decoder = msgspec.json.Decoder(ServerMessage)
encoder = msgspec.json.Encoder()

"""The websocket protocol's messages: defined once, used by the gateway, the client and tests.

Frames are JSON text, one message each, tagged by ``type``. ``docs/protocol.md`` describes them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

# Close codes, grouped as Centrifugo groups them so that a client needs no table to decide:
# 4000-4499 (like 3000-3499) mean "reconnect, with backoff, and recover"; 4500-4999 (like
# 3500-3999) are terminal: the same connection would be refused again until the client changes
# something. Where Centrifugo's client protocol has a code for the same cause (shutdown, internal
# error, expired, slow, insufficient state, invalid token, bad request, stale), ours is it plus 1000.
# docs/protocol.md "Close codes" lists them with the transport's own codes.
CLOSE_SHUTDOWN = 4001  # the server is going away; reconnect (to another instance)
CLOSE_INTERNAL_ERROR = 4004  # the server failed while serving this socket
CLOSE_TOKEN_EXPIRED = 4005  # the token expired and was not refreshed in time
CLOSE_SLOW_CONSUMER = 4008  # the client did not read fast enough: too many bytes or frames waited for it
CLOSE_BUS_GAP = 4010  # delivery was interrupted inside the server; reconnect and recover
CLOSE_TOO_FAST = 4013  # too many messages per second
CLOSE_ROLE_CHANGED = 4014  # the user's role changed; reconnect (channels are authorized again)
CLOSE_UNAVAILABLE = 4015  # a backend the server needs (PostgreSQL) is unavailable; reconnect later
CLOSE_UNAUTHENTICATED = 4500  # the connect token was refused
CLOSE_PROTOCOL_ERROR = 4501  # the first frame was not a connect message
CLOSE_CONNECT_TIMEOUT = 4502  # no connect message in time
CLOSE_TOO_BIG = 4509  # a message over the size limit


def reconnects(code: int) -> bool:
    """``disconnect.reconnect`` for a close code: true exactly in the reconnect ranges."""
    return 3000 <= code < 3500 or 4000 <= code < 4500


def close_reason(reason: str) -> str:
    """``reason`` cut to what a websocket close frame can carry (123 bytes of UTF-8)."""
    return reason.encode()[:120].decode(errors="ignore")


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


class Malformed(Exception):
    """A frame that is not one of the client messages; ``request_id`` is its ``id`` if readable."""

    def __init__(self, request_id: int | None, message: str) -> None:
        super().__init__(message)
        self.request_id = request_id
        self.message = message


class _Envelope(msgspec.Struct):
    id: int | None = None


_envelope_decoder = msgspec.json.Decoder(_Envelope)


def decode(frame: str) -> ClientMessage:
    """A text frame as a client message, or ``Malformed`` with the frame's id when it has one.

    msgspec decodes recursively: JSON nested hundreds of levels deep raises RecursionError,
    which is the client's fault like any other malformed frame."""
    try:
        message: ClientMessage = client_decoder.decode(frame)
    except msgspec.ValidationError as exc:  # JSON, but not one of our messages
        raise Malformed(_request_id(frame), str(exc)) from None
    except msgspec.DecodeError as exc:  # not JSON (or not valid Unicode)
        raise Malformed(None, str(exc)) from None
    except RecursionError:
        raise Malformed(None, "the JSON is nested too deeply") from None
    return message


def _request_id(frame: str) -> int | None:
    """The integer ``id`` of a JSON object that failed the schema, read leniently: its error
    reply carries it. The frame is at most ``ws_max_message_bytes`` long; its depth is bounded
    by RecursionError, as in ``decode``."""
    try:
        return _envelope_decoder.decode(frame).id
    except (msgspec.DecodeError, RecursionError):
        return None


server_decoder = msgspec.json.Decoder(ServerMessage)
encoder = msgspec.json.Encoder()

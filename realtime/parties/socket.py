"""Party messages on ``/ws``: the gateway hands them here, and tells us when a socket closes.

Commands go over the socket rather than REST because latency is the point: the command reaches
the server one one-way trip after the click, on a connection that is already open and
authenticated, and the reply comes back on the same path as the state everyone else receives.
"""

from __future__ import annotations

import logging
import re
from typing import Protocol

import msgspec

from app.auth.tokens import Principal
from app.errors import AppError
from realtime import protocol
from realtime.channels import channel_name
from realtime.connection import Connection
from realtime.node import user_of
from realtime.parties import state
from realtime.parties.events import PartyView, view
from realtime.parties.live import LiveParties
from realtime.parties.state import Refused

log = logging.getLogger("mydrtv.parties")

# Control characters other than tab and line breaks, as for comments: PostgreSQL refuses NUL in
# text, and the rest has no place in a chat line or an emoji.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class Records(Protocol):
    """What the socket needs from the party records in PostgreSQL (``app.parties.service``)."""

    async def post_message(
        self, party_id: str, user: protocol.User, text: str, position: float | None
    ) -> int:
        """Store a chat message; its id."""

    async def video_for(self, party_id: str, actor: Principal, video_id: str) -> float | None:
        """Check that the party may switch to ``video_id``; its duration."""

    async def duration(self, video_id: str) -> float | None: ...


class PartySocket:
    def __init__(self, live: LiveParties, records: Records) -> None:
        self.live = live
        self.records = records
        # Parties each connection reported to: their entries go when the connection does.
        self._reported: dict[str, set[str]] = {}

    async def handle(self, connection: Connection, message: protocol.PartyMessage) -> None:
        try:
            user = user_of(connection)
            if user is None:
                raise Refused("unauthenticated", "watch parties need a signed-in connection")
            channel = channel_name("party", message.party)
            if channel not in connection.channels:
                party = await self.live.get(message.party)
                if not party.member(user.id):
                    raise Refused("not_member", "you are not a member of this party; join it first")
                raise Refused("not_subscribed", f"subscribe to {channel} first")
            await self._answer(connection, user, message)
        except Refused as refused:
            connection.send_message(
                protocol.Error(
                    id=message.id, code=refused.code, message=refused.message, details=refused.details
                )
            )
        except AppError as error:
            connection.send_message(
                protocol.Error(id=message.id, code=error.code, message=error.message, details=error.details)
            )

    async def _answer(
        self, connection: Connection, user: protocol.User, message: protocol.PartyMessage
    ) -> None:
        party_id = message.party
        match message:
            case protocol.PartyGet():
                party = await self.live.get(party_id)
                if not party.member(user.id):  # left the party, but still subscribed
                    raise Refused("not_member", "you are no longer a member of this party")
                online = await self.live.online(party_id)
                self._reply(connection, message.id, view(party, online.connections))
            case protocol.PartyCommand():
                assert connection.principal is not None
                change = await self._command(party_id, connection.principal, message)
                self._reply(connection, message.id, await self.live.command(party_id, user.id, change))
            case protocol.PartyStatus(buffering=buffering, rtt_ms=rtt_ms):
                if rtt_ms is not None and not 0 <= rtt_ms <= 60_000:
                    raise Refused("invalid_rtt", "rtt_ms must be between 0 and 60000")
                self._reported.setdefault(connection.id, set()).add(party_id)
                current = await self.live.report(
                    party_id, connection.id, user.id, buffering=buffering, rtt_ms=rtt_ms
                )
                self._reply(connection, message.id, current)
            case protocol.PartyChat(text=text, position=position):
                _check_text(text)
                _check_anchor(position)
                message_id = await self.records.post_message(party_id, user, text, position)
                connection.send_message(
                    protocol.PartySent(id=message.id, party=party_id, message_id=message_id)
                )
            case protocol.PartyReact(emoji=emoji, position=position):
                _check_text(emoji)
                _check_anchor(position)
                await self.live.react(party_id, user, emoji, position)
                connection.send_message(protocol.PartySent(id=message.id, party=party_id))

    async def _command(
        self, party_id: str, actor: Principal, message: protocol.PartyCommand
    ) -> state.Command:
        """The wire command as a state-machine command, with what only the catalog knows."""
        version = message.version
        match message.action:
            case "play":
                return state.Play(version)
            case "pause":
                return state.Pause(version)
            case "seek":
                if message.position is None:
                    raise Refused("invalid_command", "seek needs a position (seconds)")
                party = await self.live.get(party_id)
                if party.playback.duration is None:  # the media may have been processed since
                    duration = await self.records.duration(party.playback.video_id)
                    if duration is not None:
                        return state.Seek(version, message.position, duration)
                return state.Seek(version, message.position)
            case "rate":
                if message.rate is None:
                    raise Refused("invalid_command", "rate needs a rate")
                return state.SetRate(version, message.rate)
            case "video":
                if message.video_id is None:
                    raise Refused("invalid_command", "video needs a video_id")
                duration = await self.records.video_for(party_id, actor, message.video_id)
                return state.ChangeVideo(version, message.video_id, duration)
        raise AssertionError(message.action)  # pragma: no cover - msgspec checked the literal

    def _reply(self, connection: Connection, request_id: int, current: PartyView) -> None:
        encoded = msgspec.Raw(msgspec.json.encode(current))
        connection.send_message(protocol.PartyState(id=request_id, party=current.id, state=encoded))

    async def closed(self, connection: Connection) -> None:
        """The socket is gone: its buffering and latency reports no longer count."""
        for party_id in self._reported.pop(connection.id, set()):
            try:
                await self.live.disconnect(party_id, connection.id)
            except Refused:
                pass  # the party ended meanwhile
            except Exception:
                log.exception(
                    "could not clear a closed connection's party reports", extra={"party": party_id}
                )


def _check_anchor(position: float | None) -> None:
    if position is not None and position < 0:
        raise Refused("invalid_position", "a position cannot be negative")


def _check_text(text: str) -> None:
    if _CONTROL.search(text):
        raise Refused("invalid_characters", "plain text only: no control characters but tab and line breaks")

"""What the ``party:{id}`` channel carries, and the party as clients see it.

``party.state`` is published straight to the bus after each stored change (the state lives in
Redis, not PostgreSQL); the others come from PostgreSQL writes through the outbox.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from app.parties.state import Control, Member, Party, Playback


class PartyView(msgspec.Struct, frozen=True):
    id: str
    revision: int  # grows with every change; ignore a state older than the one you have
    host: str
    control: Control
    wait_for_buffering: bool
    members: tuple[Member, ...]
    playback: Playback
    wants_to_play: bool
    waiting: bool  # the group wants to play but waits for ``buffering`` members
    buffering: list[str]  # ids of online members whose players cannot play


def view(party: Party, online: frozenset[str]) -> PartyView:
    return PartyView(
        id=party.id,
        revision=party.revision,
        host=party.host,
        control=party.control,
        wait_for_buffering=party.wait_for_buffering,
        members=party.members,
        playback=party.playback,
        wants_to_play=party.wants_to_play,
        waiting=party.waiting(online),
        buffering=sorted({link.user for c, link in party.links.items() if link.buffering and c in online}),
    )


class ChatMessage(msgspec.Struct, frozen=True):
    id: int
    party_id: uuid.UUID
    user: Member
    text: str
    video_id: uuid.UUID  # the video and the position in it the message is anchored to
    position: float
    created_at: datetime


class StateChanged(msgspec.Struct, tag="party.state", frozen=True):
    state: PartyView


class MemberJoined(msgspec.Struct, tag="party.member_joined", frozen=True):
    party_id: uuid.UUID
    member: Member


class MemberLeft(msgspec.Struct, tag="party.member_left", frozen=True):
    party_id: uuid.UUID
    member: Member


class ChatPosted(msgspec.Struct, tag="party.chat", frozen=True):
    message: ChatMessage


class Ended(msgspec.Struct, tag="party.ended", frozen=True):
    party_id: uuid.UUID


PartyEvent = StateChanged | MemberJoined | MemberLeft | ChatPosted | Ended
event_decoder = msgspec.json.Decoder(PartyEvent)
view_decoder = msgspec.json.Decoder(PartyView)

"""Wire types of the party endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from app.parties.drift import SyncPolicy
from app.parties.events import ChatMessage, PartyView
from app.parties.state import Control
from app.videos.schemas import UserRef

Visibility = Literal["public", "private"]


class NewParty(msgspec.Struct, forbid_unknown_fields=True):
    video_id: uuid.UUID
    visibility: Visibility = "public"  # private: joined only with the invite
    control: Control = "host"  # who may play, pause, seek, change rate or video
    wait_for_buffering: bool = True  # a buffering member pauses everyone until all are ready


class PartyChange(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    control: Control | msgspec.UnsetType = msgspec.UNSET
    wait_for_buffering: bool | msgspec.UnsetType = msgspec.UNSET


class JoinRequest(msgspec.Struct, forbid_unknown_fields=True):
    invite: str | None = None  # needed for a private party


class Invitation(msgspec.Struct, forbid_unknown_fields=True):
    handle: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]  # whom to invite


class HandOver(msgspec.Struct, forbid_unknown_fields=True):
    user_id: uuid.UUID


class PartyInfo(msgspec.Struct):
    id: uuid.UUID
    channel: str  # subscribe to it on /ws
    visibility: Visibility
    creator: UserRef | None  # null once the creator's account is erased
    created_at: datetime
    invite: str | None  # for members of a private party; share it to invite someone
    state: PartyView
    sync_policy: SyncPolicy  # the drift-correction thresholds every client applies


class PartyPage(msgspec.Struct):
    items: list[PartyInfo]
    next_cursor: str | None


class PartyMember(msgspec.Struct):
    user: UserRef
    joined_at: datetime
    host: bool
    online: bool  # has a connection on the party's channel now


class PartyMemberPage(msgspec.Struct):
    items: list[PartyMember]  # in the order they joined
    next_cursor: str | None


class Invite(msgspec.Struct):
    invite: str


class MessagePage(msgspec.Struct):
    items: list[ChatMessage]  # newest first
    next_cursor: str | None

"""REST endpoints of watch parties. Playback commands go over /ws (docs/protocol.md)."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from app.parties.schemas import (
    HandOver,
    Invitation,
    Invite,
    JoinRequest,
    MessagePage,
    NewParty,
    PartyChange,
    PartyInfo,
    PartyMemberPage,
    PartyPage,
)
from app.parties.service import PartyService
from core.pagination import Cursor, Limit
from core.tokens import Principal

VideoFilter = Annotated[uuid.UUID | None, QueryParameter(description="only parties watching this video")]


class PartyController(Controller):
    tags = ("parties",)

    @post("/parties", status_code=201)
    async def create(
        self,
        data: JSONBody[NewParty],
        principal: NamedDependency[Principal],
        parties: NamedDependency[PartyService],
    ) -> PartyInfo:
        """Start a party for a video the caller may see; the caller is its first member and host."""
        return await parties.create(principal, data)

    @get("/parties")
    async def list_public(
        self,
        parties: NamedDependency[PartyService],
        video_id: VideoFilter = None,
        cursor: Cursor = None,
        limit: Limit = 20,
    ) -> PartyPage:
        """Public parties of public videos that are going on, newest first."""
        return await parties.public(video_id, cursor, limit)

    @get("/me/parties")
    async def list_mine(
        self,
        principal: NamedDependency[Principal],
        parties: NamedDependency[PartyService],
        cursor: Cursor = None,
        limit: Limit = 20,
    ) -> PartyPage:
        """The parties the caller is in, newest first."""
        return await parties.mine(principal, cursor, limit)

    @get("/parties/{party_id:uuid}")
    async def get_one(
        self,
        party_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal | None],
        parties: NamedDependency[PartyService],
    ) -> PartyInfo:
        """A party with its live state; a private one for its members only."""
        return await parties.get(party_id, viewer)

    @patch("/parties/{party_id:uuid}")
    async def configure(
        self,
        party_id: FromPath[uuid.UUID],
        data: JSONBody[PartyChange],
        principal: NamedDependency[Principal],
        parties: NamedDependency[PartyService],
    ) -> PartyInfo:
        """Change who controls playback and whether the party waits for buffering members (host)."""
        return await parties.configure(party_id, principal, data)

    @post("/parties/{party_id:uuid}/join", status_code=200)
    async def join(
        self,
        party_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal],
        parties: NamedDependency[PartyService],
        data: JSONBody[JoinRequest | None] = None,
    ) -> PartyInfo:
        """Become a member (a private party needs its invite); joining twice changes nothing."""
        return await parties.join(party_id, principal, data.invite if data else None)

    @post("/parties/{party_id:uuid}/leave", status_code=204)
    async def leave(
        self,
        party_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal],
        parties: NamedDependency[PartyService],
    ) -> None:
        """Leave the party; a leaving host hands control on, the last member out ends it."""
        await parties.leave(party_id, principal)

    @get("/parties/{party_id:uuid}/members")
    async def members(
        self,
        party_id: FromPath[uuid.UUID],
        viewer: NamedDependency[Principal | None],
        parties: NamedDependency[PartyService],
        cursor: Cursor = None,
        limit: Limit = 100,
    ) -> PartyMemberPage:
        """Members in the order they joined, with who is host and who is online now."""
        return await parties.members(party_id, viewer, cursor, limit)

    @put("/parties/{party_id:uuid}/host")
    async def hand_over(
        self,
        party_id: FromPath[uuid.UUID],
        data: JSONBody[HandOver],
        principal: NamedDependency[Principal],
        parties: NamedDependency[PartyService],
    ) -> PartyInfo:
        """The host gives control to a member; a member may take it while the host is offline."""
        return await parties.hand_over(party_id, principal, data.user_id)

    @post("/parties/{party_id:uuid}/invite", status_code=200)
    async def rotate_invite(
        self,
        party_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal],
        parties: NamedDependency[PartyService],
    ) -> Invite:
        """A new invite for a private party (host); the previous one stops working."""
        return await parties.rotate_invite(party_id, principal)

    @post("/parties/{party_id:uuid}/invitations", status_code=204)
    async def invite_user(
        self,
        party_id: FromPath[uuid.UUID],
        data: JSONBody[Invitation],
        principal: NamedDependency[Principal],
        parties: NamedDependency[PartyService],
    ) -> None:
        """Invite someone by handle (members): they get a ``party_invite`` notification with the
        party and, for a private party, its invite."""
        await parties.invite_user(party_id, principal, data)

    @get("/parties/{party_id:uuid}/messages")
    async def messages(
        self,
        party_id: FromPath[uuid.UUID],
        principal: NamedDependency[Principal],
        parties: NamedDependency[PartyService],
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> MessagePage:
        """The party's chat, newest first (members)."""
        return await parties.messages(party_id, principal, cursor, limit)

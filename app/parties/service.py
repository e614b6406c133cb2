"""The party's records: who created it, who is in it, its invite and chat (PostgreSQL), and the
REST operations that also touch its live state (``app.parties.live``).

Membership is written to PostgreSQL first, with its outbox event, then to the live state; both
writes are idempotent, so retrying a join or leave that failed half-way makes them agree again.

Who may see a party: its members always; a public party, anyone who may see its video. To anyone
else it does not exist (404), like a private video.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from typing import Any

import msgspec

from app.feed.activity import record
from app.notifications.notify import notify
from app.parties import state
from app.parties.drift import SyncPolicy
from app.parties.events import (
    ChatMessage,
    ChatPosted,
    Ended,
    MemberJoined,
    MemberLeft,
    PartyView,
    view,
)
from app.parties.live import LiveParties
from app.parties.schemas import (
    Invitation,
    Invite,
    MessagePage,
    NewParty,
    PartyChange,
    PartyInfo,
    PartyMember,
    PartyMemberPage,
    PartyPage,
)
from app.parties.state import Member, Party, Refused
from app.videos.schemas import UserRef
from app.videos.service import VideoService, parse_id
from core.db import Database
from core.errors import BadRequest, Conflict, DomainError, Forbidden, NotFound
from core.pagination import Keyset, page_rows
from core.tokens import Principal
from realtime import protocol
from realtime.channels import channel_name
from realtime.outbox import enqueue

_SELECT = """
SELECT p.id, p.video_id, p.visibility, p.invite, p.control, p.wait_for_buffering, p.created_at,
       p.ended_at, p.creator_id, u.handle AS creator_handle
FROM parties p LEFT JOIN users u ON u.id = p.creator_id
"""
_MESSAGE = """
SELECT m.id, m.party_id, m.text, m.video_id, m.position, m.created_at, u.id AS user_id, u.handle
FROM party_messages m JOIN users u ON u.id = m.user_id
"""
_NEWEST = Keyset(("p.created_at", "p.id"), ("created_at", "id"), tuple[datetime, uuid.UUID])
_LATEST_MESSAGES = Keyset(("m.id",), ("id",), tuple[int])
_FIRST_JOINED = Keyset(
    ("m.joined_at", "m.user_id"), ("joined_at", "id"), tuple[datetime, uuid.UUID], descending=False
)

_STATUS = {"party_not_found": NotFound, "not_member": Forbidden, "not_host": Forbidden}


def http_error(refused: Refused) -> DomainError:
    """A refused live change as an HTTP error: 404, 403, 409 (stale or racing) or 400."""
    kind = _STATUS.get(refused.code)
    if kind is None:
        kind = Conflict if refused.code in ("stale_version", "busy", "party_exists") else BadRequest
    return kind(refused.message, code=refused.code, details=refused.details)


def _message(row: dict[str, Any]) -> ChatMessage:
    return ChatMessage(
        id=row["id"],
        party_id=row["party_id"],
        user=Member(str(row["user_id"]), row["handle"]),
        text=row["text"],
        video_id=row["video_id"],
        position=row["position"],
        created_at=row["created_at"],
    )


class PartyService:
    def __init__(
        self, db: Database, videos: VideoService, live: LiveParties, max_members: int, policy: SyncPolicy
    ) -> None:
        self._db = db
        self._videos = videos
        self.live = live
        self._max_members = max_members
        self._policy = policy

    # Records ------------------------------------------------------------------------------------

    async def _row(self, party_id: uuid.UUID) -> dict[str, Any] | None:
        rows = await self._db.fetch(_SELECT + " WHERE p.id = {}", party_id)
        return rows[0] if rows else None

    async def _is_member(self, party_id: uuid.UUID, user_id: uuid.UUID) -> bool:
        rows = await self._db.fetch(
            "SELECT 1 FROM party_members WHERE party_id = {} AND user_id = {}", party_id, user_id
        )
        return bool(rows)

    async def _readable(self, party_id: uuid.UUID, viewer: Principal | None) -> tuple[dict[str, Any], bool]:
        """The party's row and whether ``viewer`` is a member; 404 if the viewer may not see it."""
        row = await self._row(party_id)
        if row is None or row["ended_at"] is not None:
            raise NotFound("no such party", code="party_not_found")
        member = viewer is not None and await self._is_member(party_id, viewer.id)
        if not member:
            if row["visibility"] != "public":
                raise NotFound("no such party", code="party_not_found")
            try:
                await self._videos.visible(await self._current_video(party_id), viewer)
            except NotFound as hidden:
                raise NotFound("no such party", code="party_not_found") from hidden
        return row, member

    async def _live(self, party_id: uuid.UUID) -> Party:
        try:
            return await self.live.get(str(party_id))
        except Refused as refused:
            raise http_error(refused) from refused

    async def _current_video(self, party_id: uuid.UUID) -> uuid.UUID:
        """The video the party watches now (it may have moved on from the one it started with)."""
        return uuid.UUID((await self._live(party_id)).playback.video_id)

    async def _live_view(self, party_id: uuid.UUID) -> PartyView:
        try:
            return await self.live.view(str(party_id))
        except Refused as refused:
            raise http_error(refused) from refused

    def _info(self, row: dict[str, Any], member: bool, current: PartyView) -> PartyInfo:
        creator = row["creator_id"]
        return PartyInfo(
            id=row["id"],
            channel=channel_name("party", row["id"]),
            visibility=row["visibility"],
            creator=UserRef(id=creator, handle=row["creator_handle"]) if creator else None,
            created_at=row["created_at"],
            invite=row["invite"] if member and row["visibility"] == "private" else None,
            state=current,
            sync_policy=self._policy,
        )

    async def get(self, party_id: uuid.UUID, viewer: Principal | None) -> PartyInfo:
        row, member = await self._readable(party_id, viewer)
        return self._info(row, member, await self._live_view(party_id))

    async def create(self, creator: Principal, form: NewParty) -> PartyInfo:
        video = await self._videos.visible(form.video_id, creator)
        party_id = uuid.uuid4()
        async with self._db.engine.transaction():
            await self._db.fetch(
                "INSERT INTO parties"
                " (id, video_id, creator_id, visibility, invite, control, wait_for_buffering)"
                " VALUES ({}, {}, {}, {}, {}, {}, {})",
                party_id,
                video.id,
                creator.id,
                form.visibility,
                secrets.token_urlsafe(24),
                form.control,
                form.wait_for_buffering,
            )
            await self._db.fetch(
                "INSERT INTO party_members (party_id, user_id) VALUES ({}, {})", party_id, creator.id
            )
            if form.visibility == "public":  # a private party is nobody else's business
                await record(
                    self._db, creator.id, "started_party", video_id=video.id, object_id=str(party_id)
                )
        row = await self._row(party_id)
        assert row is not None
        await self.live.create(
            self._fresh(row, [Member(str(creator.id), creator.handle)], video.duration_seconds)
        )
        return self._info(row, True, await self._live_view(party_id))

    def _fresh(self, row: dict[str, Any], members: list[Member], duration: float | None) -> Party:
        party = state.start(
            str(row["id"]),
            members[0],
            str(row["video_id"]),
            duration,
            now=self.live.now(),
            control=row["control"],
            wait_for_buffering=row["wait_for_buffering"],
        )
        creator = str(row["creator_id"])
        host = creator if any(m.id == creator for m in members) else members[0].id
        return msgspec.structs.replace(party, members=tuple(members), host=host)

    async def rebuild(self, party_id: str) -> Party | None:
        """The live state of a party whose state the store lost: paused at the start of its first
        video, with the settings it was created with. Revisions continue from the current time in
        milliseconds, above any the lost state could have reached, so clients accept the new one."""
        parsed = parse_id(party_id)
        row = await self._row(parsed) if parsed else None
        if row is None or row["ended_at"] is not None:
            return None
        members = [
            Member(str(r["id"]), r["handle"])
            for r in await self._db.fetch(
                "SELECT u.id, u.handle FROM party_members m JOIN users u ON u.id = m.user_id"
                " WHERE m.party_id = {} ORDER BY m.joined_at, u.id",
                parsed,
            )
        ]
        if not members:
            return None
        party = self._fresh(row, members, await self.duration(str(row["video_id"])))
        return msgspec.structs.replace(party, revision=int(self.live.now()))

    async def join(self, party_id: uuid.UUID, user: Principal, invite: str | None) -> PartyInfo:
        row = await self._row(party_id)
        if row is None:
            raise NotFound("no such party", code="party_not_found")
        if row["ended_at"] is not None:
            raise Conflict("the party is over", code="party_ended")
        if not await self._is_member(party_id, user.id):
            if row["visibility"] == "private" and not secrets.compare_digest(invite or "", row["invite"]):
                raise Forbidden("a private party needs its current invite", code="invalid_invite")
            await self._videos.visible(await self._current_video(party_id), user)
            async with self._db.engine.transaction():
                await self._db.fetch("SELECT 1 FROM parties WHERE id = {} FOR UPDATE", party_id)
                count = await self._db.fetch(
                    "SELECT count(*) AS n FROM party_members WHERE party_id = {}", party_id
                )
                if count[0]["n"] >= self._max_members:
                    raise Conflict(f"the party is full ({self._max_members} members)", code="party_full")
                added = await self._db.fetch(
                    "INSERT INTO party_members (party_id, user_id) VALUES ({}, {})"
                    " ON CONFLICT DO NOTHING RETURNING user_id",
                    party_id,
                    user.id,
                )
                if added:
                    joined = MemberJoined(party_id, Member(str(user.id), user.handle))
                    await enqueue(self._db, channel_name("party", party_id), msgspec.json.encode(joined))
        try:
            current = await self.live.join(str(party_id), Member(str(user.id), user.handle))
        except Refused as refused:
            raise http_error(refused) from refused
        return self._info(row, True, current)

    async def leave(self, party_id: uuid.UUID, user: Principal) -> None:
        """Leave (idempotent). A leaving host hands control on; the last one out ends the party."""
        row = await self._row(party_id)
        if row is None or row["ended_at"] is not None:
            raise NotFound("no such party", code="party_not_found")
        channel = channel_name("party", party_id)
        async with self._db.engine.transaction():
            await self._db.fetch("SELECT 1 FROM parties WHERE id = {} FOR UPDATE", party_id)
            removed = await self._db.fetch(
                "DELETE FROM party_members WHERE party_id = {} AND user_id = {} RETURNING user_id",
                party_id,
                user.id,
            )
            if removed:
                left = MemberLeft(party_id, Member(str(user.id), user.handle))
                await enqueue(self._db, channel, msgspec.json.encode(left))
            remaining = await self._db.fetch(
                "SELECT 1 FROM party_members WHERE party_id = {} LIMIT 1", party_id
            )
            if not remaining:
                await self._db.fetch("UPDATE parties SET ended_at = now() WHERE id = {}", party_id)
                await enqueue(self._db, channel, msgspec.json.encode(Ended(party_id)))
        if not remaining:
            await self.live.end(str(party_id))
            return
        try:
            await self.live.leave(str(party_id), str(user.id))
        except Refused as refused:
            raise http_error(refused) from refused

    async def members(
        self, party_id: uuid.UUID, viewer: Principal | None, cursor: str | None, limit: int
    ) -> PartyMemberPage:
        await self._readable(party_id, viewer)
        host = (await self._live(party_id)).host
        online = (await self.live.online(str(party_id))).users
        rows, next_cursor = await page_rows(
            self._db,
            "SELECT u.id, u.handle, m.joined_at FROM party_members m JOIN users u ON u.id = m.user_id",
            ["m.party_id = {}"],
            (party_id,),
            _FIRST_JOINED,
            cursor,
            limit,
        )
        members = [
            PartyMember(
                user=UserRef(id=r["id"], handle=r["handle"]),
                joined_at=r["joined_at"],
                host=str(r["id"]) == host,
                online=str(r["id"]) in online,
            )
            for r in rows
        ]
        return PartyMemberPage(items=members, next_cursor=next_cursor)

    async def hand_over(self, party_id: uuid.UUID, actor: Principal, to: uuid.UUID) -> PartyInfo:
        row, member = await self._readable(party_id, actor)
        try:
            current = await self.live.hand_over(str(party_id), str(actor.id), str(to))
        except Refused as refused:
            raise http_error(refused) from refused
        return self._info(row, member, current)

    async def configure(self, party_id: uuid.UUID, actor: Principal, change: PartyChange) -> PartyInfo:
        row, member = await self._readable(party_id, actor)
        control = change.control if change.control is not msgspec.UNSET else None
        wait = change.wait_for_buffering if change.wait_for_buffering is not msgspec.UNSET else None
        try:
            current = await self.live.configure(str(party_id), str(actor.id), control, wait)
        except Refused as refused:
            raise http_error(refused) from refused
        return self._info(row, member, current)

    async def rotate_invite(self, party_id: uuid.UUID, actor: Principal) -> Invite:
        """A new invite for a private party (the host); the old one stops working."""
        row, _ = await self._readable(party_id, actor)
        if (await self._live(party_id)).host != str(actor.id):
            raise Forbidden("only the host renews the invite", code="not_host")
        if row["visibility"] != "private":
            raise Conflict("a public party needs no invite", code="public_party")
        invite = secrets.token_urlsafe(24)
        await self._db.fetch("UPDATE parties SET invite = {} WHERE id = {}", invite, party_id)
        return Invite(invite)

    async def invite_user(self, party_id: uuid.UUID, actor: Principal, form: Invitation) -> None:
        """A member invites someone by handle: they are notified (``party_invite``) with the party
        and, for a private one, its current invite. Someone who muted or blocked the member, or
        switched invites off, is simply not told; the answer is the same, so it reveals nothing."""
        row, member = await self._readable(party_id, actor)
        if not member:
            raise Forbidden("only the party's members may invite", code="not_member")
        handle = form.handle.strip().lower()
        users = await self._db.fetch("SELECT id, handle, role FROM users WHERE handle = {}", handle)
        if not users:
            raise NotFound("no such user", code="user_not_found")
        invitee = Principal(id=users[0]["id"], handle=users[0]["handle"], role=users[0]["role"])
        if invitee.id == actor.id:
            raise BadRequest("you are in this party already", code="cannot_invite_self")
        if await self._is_member(party_id, invitee.id):
            raise Conflict("they are in this party already", code="already_member")
        video_id = await self._current_video(party_id)
        try:
            await self._videos.visible(video_id, invitee)
        except NotFound as hidden:
            raise Conflict("they may not see the party's video", code="invitee_cannot_see_video") from hidden
        async with self._db.engine.transaction():
            await notify(
                self._db,
                invitee.id,
                "party_invite",
                actor_id=actor.id,
                group_key=f"party:{party_id}",
                video_id=video_id,
                party_id=party_id,
                data={"invite": row["invite"] if row["visibility"] == "private" else None},
            )

    async def public(self, video_id: uuid.UUID | None, cursor: str | None, limit: int) -> PartyPage:
        """Public parties of public videos that have not ended, newest first."""
        conditions = ["p.visibility = 'public'", "p.ended_at IS NULL", "v.visibility = 'public'"]
        values: list[Any] = []
        if video_id is not None:
            conditions.append("p.video_id = {}")
            values.append(video_id)
        return await self._page(conditions, values, cursor, limit, None)

    async def mine(self, user: Principal, cursor: str | None, limit: int) -> PartyPage:
        """The parties ``user`` is in, newest first."""
        conditions = [
            "p.ended_at IS NULL",
            "EXISTS (SELECT 1 FROM party_members m WHERE m.party_id = p.id AND m.user_id = {})",
        ]
        return await self._page(conditions, [user.id], cursor, limit, user)

    async def _page(
        self,
        conditions: list[str],
        values: list[Any],
        cursor: str | None,
        limit: int,
        member: Principal | None,
    ) -> PartyPage:
        select = _SELECT + " JOIN videos v ON v.id = p.video_id"
        page, next_cursor = await page_rows(self._db, select, conditions, values, _NEWEST, cursor, limit)
        stored = await self.live.store.load_many(str(r["id"]) for r in page)
        items = []
        for row in page:
            current = stored.get(str(row["id"]))
            # Listed without a presence lookup each: every connection that reported counts as online.
            shown = view(current, frozenset(current.links)) if current else await self._live_view(row["id"])
            items.append(self._info(row, member is not None, shown))
        return PartyPage(items=items, next_cursor=next_cursor)

    # Chat ---------------------------------------------------------------------------------------

    async def messages(
        self, party_id: uuid.UUID, viewer: Principal, cursor: str | None, limit: int
    ) -> MessagePage:
        _, member = await self._readable(party_id, viewer)
        if not member:
            raise Forbidden("only members read the party's chat", code="not_member")
        rows, next_cursor = await page_rows(
            self._db, _MESSAGE, ["m.party_id = {}"], [party_id], _LATEST_MESSAGES, cursor, limit
        )
        return MessagePage(items=[_message(r) for r in rows], next_cursor=next_cursor)

    async def post_message(
        self, party_id: str, user: protocol.User, text: str, position: float | None
    ) -> int:
        """Store a chat message anchored to the party's video and a position (the party's current one
        unless the sender says), and publish it through the outbox."""
        cleaned = text.strip()
        if not cleaned:
            raise BadRequest("a message cannot be blank", code="invalid_text")
        party = await self.live.get(party_id)
        anchored = position if position is not None else party.playback.position_at(self.live.now())
        async with self._db.engine.transaction():
            rows = await self._db.fetch(
                "INSERT INTO party_messages (party_id, user_id, text, video_id, position)"
                " SELECT {}, {}, {}, {}, {} WHERE EXISTS"
                " (SELECT 1 FROM party_members WHERE party_id = {} AND user_id = {}) RETURNING id",
                uuid.UUID(party_id),
                uuid.UUID(user.id),
                cleaned,
                uuid.UUID(party.playback.video_id),
                anchored,
                uuid.UUID(party_id),
                uuid.UUID(user.id),
            )
            if not rows:
                raise Forbidden("only the party's members may chat in it", code="not_member")
            stored = await self._db.fetch(_MESSAGE + " WHERE m.id = {}", rows[0]["id"])
            await enqueue(
                self._db,
                channel_name("party", party_id),
                msgspec.json.encode(ChatPosted(_message(stored[0]))),
            )
        return int(rows[0]["id"])

    # What the socket and the gateway ask ---------------------------------------------------------

    async def is_member(self, party_id: str, user_id: str) -> bool:
        """``Memberships`` for the gateway: may this user read ``party:{party_id}``?"""
        party, user = parse_id(party_id), parse_id(user_id)
        if party is None or user is None:
            return False
        rows = await self._db.fetch(
            "SELECT 1 FROM party_members m JOIN parties p ON p.id = m.party_id"
            " WHERE m.party_id = {} AND m.user_id = {} AND p.ended_at IS NULL",
            party,
            user,
        )
        return bool(rows)

    async def duration(self, video_id: str) -> float | None:
        parsed = parse_id(video_id)
        rows = (
            await self._db.fetch("SELECT duration_seconds FROM videos WHERE id = {}", parsed)
            if parsed
            else []
        )
        return rows[0]["duration_seconds"] if rows else None

    async def video_for(self, party_id: str, actor: Principal, video_id: str) -> float | None:
        """May the party switch to this video? The actor must see it, and if it is private, so must
        every member: a party never shows anyone a video they may not see. Returns its duration."""
        parsed = parse_id(video_id)
        if parsed is None:
            raise NotFound("no such video", code="video_not_found")
        video = await self._videos.visible(parsed, actor)
        if video.visibility == "private":
            rows = await self._db.fetch(
                "SELECT u.id, u.handle, u.role FROM party_members m JOIN users u ON u.id = m.user_id"
                " WHERE m.party_id = {}",
                uuid.UUID(party_id),
            )
            blind = []
            for r in rows:
                try:
                    await self._videos.visible(
                        parsed, Principal(id=r["id"], handle=r["handle"], role=r["role"])
                    )
                except NotFound:
                    blind.append(r["handle"])
            if blind:
                raise Conflict(
                    "some members may not see this private video",
                    code="video_hidden_from_members",
                    details={"members": sorted(blind)},
                )
        return video.duration_seconds

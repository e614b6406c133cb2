"""Changing a party's live state: read it, apply a pure change, store it if nobody came first,
publish it.

Any instance may serve any member: the state is in the store (Redis in production), and each
change is a compare-and-set retried on conflict, so two racing commands are applied one after the
other (the second then usually refused as stale). The new state goes straight to the bus as a
``party.state`` publication; a crash between storing and publishing loses only that event (the
next change or a ``party_get`` brings clients up to date), never the state.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import msgspec

from realtime import protocol
from realtime.bus.base import Bus
from realtime.channels import channel_name
from realtime.parties import state
from realtime.parties.clock import server_now_ms
from realtime.parties.events import PartyView, StateChanged, view
from realtime.parties.state import Party, Refused
from realtime.parties.store.base import PartyStore
from realtime.presence.base import Presence

log = logging.getLogger("mydrtv.parties")

ATTEMPTS = 20  # compare-and-set retries before a change gives up (only under heavy contention)


class Online(msgspec.Struct, frozen=True):
    """Who is on the party's channel now (from presence): connection ids and user ids."""

    connections: frozenset[str]
    users: frozenset[str]


# Builds a party's live state again from its records when the store lost it (None: no such party).
Rebuild = Callable[[str], Awaitable[Party | None]]
# A change: the stored party, who is online and the server time -> the new party.
Change = Callable[[Party, Online, float], Party]


class _Empty(Exception):
    """A change that leaves nobody in the party: nothing is stored, the caller ends the party."""


class Leads(msgspec.Struct, frozen=True):
    """How far ahead changes are scheduled (see ``state.lead``)."""

    start_ms: float = 500.0  # play, seek, video change, resume: players load or pre-roll
    quick_ms: float = 150.0  # pause and rate changes
    max_ms: float = 5000.0


class LiveParties:
    def __init__(
        self,
        store: PartyStore,
        bus: Bus,
        presence: Presence,
        rebuild: Rebuild,
        leads: Leads,
        clock: Callable[[], float] = server_now_ms,
    ) -> None:
        self.store = store
        self._bus = bus
        self._presence = presence
        self._rebuild = rebuild
        self.leads = leads
        self._clock = clock

    def now(self) -> float:
        return self._clock()

    async def get(self, party_id: str) -> Party:
        party = await self.store.load(party_id)
        while party is None:
            rebuilt = await self._rebuild(party_id)
            if rebuilt is None:
                raise Refused("party_not_found", "no such party")
            if await self.store.save(rebuilt, 0):
                log.warning("party state rebuilt from its records", extra={"party": party_id})
                return rebuilt
            party = await self.store.load(party_id)
        return party

    async def online(self, party_id: str) -> Online:
        entries = await self._presence.members(channel_name("party", party_id))
        return Online(
            connections=frozenset(entries),
            users=frozenset(user.id for user in entries.values() if user is not None),
        )

    async def view(self, party_id: str) -> PartyView:
        party = await self.get(party_id)
        return view(party, (await self.online(party_id)).connections)

    async def create(self, party: Party) -> None:
        if not await self.store.save(party, 0):
            raise Refused("party_exists", "a party with this id exists")
        await self._publish(party, frozenset())

    async def end(self, party_id: str) -> None:
        await self.store.delete(party_id)

    async def change(self, party_id: str, apply: Change) -> PartyView:
        """Apply ``apply`` to the current state until it is stored; publish and return the result.

        The one compare-and-set loop of party state: a save that finds another change came first
        computes again from that change. ``apply`` returns the party itself for no change, or
        raises to refuse (``Refused``, or ``_Empty`` from ``leave``)."""
        online = await self.online(party_id)
        for _ in range(ATTEMPTS):
            party = await self.get(party_id)
            changed = apply(party, online, self._clock())
            if changed is party:
                return view(party, online.connections)
            changed = msgspec.structs.replace(changed, revision=party.revision + 1)
            if await self.store.save(changed, party.revision):
                return await self._publish(changed, online.connections)
        raise Refused("busy", "the party is changing too fast; try again")

    async def _publish(self, party: Party, online: frozenset[str]) -> PartyView:
        current = view(party, online)
        await self._bus.publish(channel_name("party", party.id), msgspec.json.encode(StateChanged(current)))
        return current

    # The changes members make ------------------------------------------------------------------

    def lead(self, party: Party, online: Online, *, start: bool) -> float:
        floor = self.leads.start_ms if start else self.leads.quick_ms
        return state.lead(party, online.connections, floor, self.leads.max_ms)

    async def command(self, party_id: str, actor: str, change: state.Command) -> PartyView:
        def apply(party: Party, online: Online, now: float) -> Party:
            lead = self.lead(party, online, start=isinstance(change, state.STARTS))
            return state.command(party, actor, change, now=now, lead_ms=lead, online=online.connections)

        return await self.change(party_id, apply)

    async def report(
        self, party_id: str, connection: str, user: str, *, buffering: bool, rtt_ms: float | None
    ) -> PartyView:
        def apply(party: Party, online: Online, now: float) -> Party:
            return state.report(
                party,
                connection,
                user,
                buffering=buffering,
                rtt_ms=rtt_ms,
                now=now,
                lead_ms=self.lead(party, online, start=True),
                online=online.connections | {connection},
            )

        return await self.change(party_id, apply)

    async def disconnect(self, party_id: str, connection: str) -> None:
        def apply(party: Party, online: Online, now: float) -> Party:
            lead = self.lead(party, online, start=True)
            return state.disconnect(party, connection, now=now, lead_ms=lead, online=online.connections)

        await self.change(party_id, apply)

    async def join(self, party_id: str, member: state.Member) -> PartyView:
        return await self.change(party_id, lambda party, _, __: state.join(party, member))

    async def leave(self, party_id: str, user: str) -> PartyView | None:
        """Remove a member; ``None`` when nobody is left (the caller ends the party)."""

        def apply(party: Party, online: Online, now: float) -> Party:
            if not party.member(user):
                return party
            left = state.leave(
                party,
                user,
                now=now,
                lead_ms=self.lead(party, online, start=True),
                online=online.connections,
                online_users=online.users - {user},
            )
            if left is None:
                raise _Empty
            return left

        try:
            return await self.change(party_id, apply)
        except _Empty:
            return None

    async def hand_over(self, party_id: str, actor: str, to: str) -> PartyView:
        def apply(party: Party, online: Online, now: float) -> Party:
            return state.hand_over(party, actor, to, host_online=party.host in online.users)

        return await self.change(party_id, apply)

    async def configure(
        self, party_id: str, actor: str, control: state.Control | None, wait_for_buffering: bool | None
    ) -> PartyView:
        def apply(party: Party, online: Online, now: float) -> Party:
            return state.configure(
                party,
                actor,
                control=control,
                wait_for_buffering=wait_for_buffering,
                now=now,
                lead_ms=self.lead(party, online, start=True),
                online=online.connections,
            )

        return await self.change(party_id, apply)

    async def react(self, party_id: str, user: protocol.User, emoji: str, position: float | None) -> None:
        """An ephemeral reaction, anchored to the party's video and a position in it."""
        party = await self.get(party_id)
        if not party.member(user.id):
            raise Refused("not_member", "only the party's members may react")
        anchored = position if position is not None else party.playback.position_at(self._clock())
        reaction = protocol.PartyReaction(
            channel=channel_name("party", party_id),
            user=user,
            emoji=emoji,
            video_id=party.playback.video_id,
            position=anchored,
            server_time=self._clock(),
        )
        await self._bus.broadcast(channel_name("party", party_id), protocol.encoder.encode(reaction))

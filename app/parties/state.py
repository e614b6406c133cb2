"""A party's live state and every change to it, as pure functions.

Nothing here does I/O or reads a clock: the caller passes the server time (``now``, milliseconds
since the epoch), the scheduling lead and which connections are online, so every rule can be
tested on its own. A refused change raises ``Refused`` with a machine-readable code.

Playback is described by where it is at one server time (``position`` at ``at``) and how it moves
from there (``playing``, ``rate``): every client computes the same position for the same server
time. Changes take effect at a future ``at`` that covers the members' latency, so everyone gets
the change before it happens.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import msgspec

Control = Literal["host", "everyone"]

MIN_RATE = 0.25  # what browsers' players handle without muting audio
MAX_RATE = 4.0


class Refused(Exception):
    def __init__(self, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


class Member(msgspec.Struct, frozen=True):
    id: str
    handle: str


class Playback(msgspec.Struct, frozen=True):
    video_id: str
    duration: float | None  # seconds; null while the catalog does not know it (media not processed)
    playing: bool
    position: float  # seconds into the video at server time ``at``
    at: float  # server time (ms since the epoch) from which this state holds
    rate: float
    version: int  # grows with every change of playback; commands name the version they saw

    def position_at(self, server_ms: float) -> float:
        """Where playback is at a server time no earlier than ``at``."""
        elapsed = max(0.0, server_ms - self.at) / 1000 if self.playing else 0.0
        position = self.position + elapsed * self.rate
        return min(position, self.duration) if self.duration is not None else position


class Link(msgspec.Struct, frozen=True):
    """One connection's report: whose it is, whether its player can play, its round trip."""

    user: str
    buffering: bool = False
    rtt_ms: float | None = None


class Party(msgspec.Struct, frozen=True):
    id: str
    host: str  # user id of the member in control (when ``control`` is "host")
    control: Control
    wait_for_buffering: bool  # a buffering member pauses everyone until all are ready
    members: tuple[Member, ...]  # in the order they joined
    playback: Playback
    wants_to_play: bool  # what the group asked for; false playback while true means waiting
    links: dict[str, Link] = {}  # by connection id
    revision: int = 0  # of the stored state; every stored change adds one

    def member(self, user: str) -> bool:
        return any(m.id == user for m in self.members)

    def blocking(self, online: frozenset[str]) -> list[str]:
        """Users whose online connections buffer, when the party waits for them."""
        if not self.wait_for_buffering:
            return []
        return sorted({link.user for c, link in self.links.items() if link.buffering and c in online})

    def waiting(self, online: frozenset[str]) -> bool:
        return self.wants_to_play and not self.playback.playing and bool(self.blocking(online))


# Commands ---------------------------------------------------------------------------------------


class Play(msgspec.Struct, frozen=True):
    version: int


class Pause(msgspec.Struct, frozen=True):
    version: int


class Seek(msgspec.Struct, frozen=True):
    version: int
    position: float
    duration: float | None = None  # the catalog's, when the party did not know it yet


class SetRate(msgspec.Struct, frozen=True):
    version: int
    rate: float


class ChangeVideo(msgspec.Struct, frozen=True):
    version: int
    video_id: str
    duration: float | None


Command = Play | Pause | Seek | SetRate | ChangeVideo
STARTS = (Play, Seek, ChangeVideo)  # players must load or pre-roll: these get the longer lead


def start(
    party_id: str,
    host: Member,
    video_id: str,
    duration: float | None,
    *,
    now: float,
    control: Control = "host",
    wait_for_buffering: bool = True,
) -> Party:
    """A new party: paused at the start of its video, the creator in control."""
    return Party(
        id=party_id,
        host=host.id,
        control=control,
        wait_for_buffering=wait_for_buffering,
        members=(host,),
        playback=Playback(video_id, duration, playing=False, position=0.0, at=now, rate=1.0, version=1),
        wants_to_play=False,
    )


def lead(party: Party, online: frozenset[str], floor_ms: float, ceiling_ms: float) -> float:
    """How far ahead a change is scheduled: twice the slowest online round trip (SyncPlay's rule),
    at least ``floor_ms``, at most ``ceiling_ms``."""
    slowest = max(
        (link.rtt_ms for c, link in party.links.items() if c in online and link.rtt_ms is not None),
        default=0.0,
    )
    return min(ceiling_ms, max(floor_ms, 2 * slowest))


def command(
    party: Party, actor: str, change: Command, *, now: float, lead_ms: float, online: frozenset[str]
) -> Party:
    """Apply a member's playback command, or refuse it; it takes effect ``lead_ms`` after ``now``."""
    if not party.member(actor):
        raise Refused("not_member", "only the party's members may control it")
    if party.control == "host" and actor != party.host:
        raise Refused("not_host", "only the host controls this party", {"host": party.host})
    current = party.playback
    if change.version != current.version:
        raise Refused(
            "stale_version",
            f"the command was for version {change.version}; the party is at {current.version}",
            {"version": current.version},
        )
    at = max(now + lead_ms, current.at)  # never before a change that is already scheduled
    match change:
        case Play():
            if current.playing:
                return party
            wanted = msgspec.structs.replace(party, wants_to_play=True)
            if wanted.blocking(online):  # someone buffers: the group waits for them
                return party if party.wants_to_play else _changed(wanted, current)
            return _changed(wanted, msgspec.structs.replace(current, playing=True, at=at))
        case Pause():
            if not party.wants_to_play and not current.playing:
                return party
            playback = _paused(current, at) if current.playing else current
            return _changed(party, playback, wants_to_play=False)
        case Seek(position=position):
            duration = current.duration if current.duration is not None else change.duration
            _check_position(position, duration)
            moved = msgspec.structs.replace(current, position=position, at=at, duration=duration)
            return _changed(party, moved)
        case SetRate(rate=rate):
            if not MIN_RATE <= rate <= MAX_RATE:
                raise Refused(
                    "invalid_rate",
                    f"the rate must be between {MIN_RATE} and {MAX_RATE}",
                    {"min": MIN_RATE, "max": MAX_RATE},
                )
            if rate == current.rate:
                return party
            moved = msgspec.structs.replace(current, position=current.position_at(at), at=at, rate=rate)
            return _changed(party, moved)
        case ChangeVideo(video_id=video_id, duration=duration):
            # The new video starts from 0; if the group was playing it goes on playing it.
            fresh = Playback(video_id, duration, current.playing, 0.0, at, current.rate, current.version)
            return _changed(party, fresh)
    raise AssertionError(change)  # pragma: no cover - the match is exhaustive


def report(
    party: Party,
    connection: str,
    user: str,
    *,
    buffering: bool,
    rtt_ms: float | None,
    now: float,
    lead_ms: float,
    online: frozenset[str],
) -> Party:
    """A connection says whether its player can play and how long its round trips take."""
    if not party.member(user):
        raise Refused("not_member", "only the party's members may report to it")
    previous = party.links.get(connection)
    link = Link(user, buffering, rtt_ms if rtt_ms is not None else previous.rtt_ms if previous else None)
    links = {**party.links, connection: link}
    return settle(msgspec.structs.replace(party, links=links), now=now, lead_ms=lead_ms, online=online)


def disconnect(party: Party, connection: str, *, now: float, lead_ms: float, online: frozenset[str]) -> Party:
    """A connection went away: it no longer holds anyone up."""
    if connection not in party.links:
        return party
    links = {c: link for c, link in party.links.items() if c != connection}
    return settle(
        msgspec.structs.replace(party, links=links), now=now, lead_ms=lead_ms, online=online - {connection}
    )


def settle(party: Party, *, now: float, lead_ms: float, online: frozenset[str]) -> Party:
    """Make playback follow the group's wish: hold it while an online member buffers (when the
    party waits), resume it once nobody does."""
    blocked = bool(party.blocking(online))
    current = party.playback
    if blocked and current.playing:
        return _changed(party, _paused(current, max(now, current.at)))
    if not blocked and party.wants_to_play and not current.playing:
        return _changed(
            party, msgspec.structs.replace(current, playing=True, at=max(now + lead_ms, current.at))
        )
    return party


def join(party: Party, member: Member) -> Party:
    if party.member(member.id):
        return party
    return msgspec.structs.replace(party, members=(*party.members, member))


def leave(
    party: Party,
    user: str,
    *,
    now: float,
    lead_ms: float,
    online: frozenset[str],
    online_users: frozenset[str],
) -> Party | None:
    """A member leaves. A leaving host hands control to the longest-standing member who is online
    (or, if nobody is, the longest-standing one). ``None``: nobody is left, the party is over."""
    members = tuple(m for m in party.members if m.id != user)
    if not members:
        return None
    host = party.host
    if host == user:
        host = next((m.id for m in members if m.id in online_users), members[0].id)
    links = {c: link for c, link in party.links.items() if link.user != user}
    left = msgspec.structs.replace(party, members=members, host=host, links=links)
    return settle(left, now=now, lead_ms=lead_ms, online=online)


def hand_over(party: Party, actor: str, to: str, *, host_online: bool) -> Party:
    """The host gives control to another member; a member may take it if the host is offline."""
    if not party.member(to):
        raise Refused("not_member", "control can only go to a member of the party")
    if actor != party.host and not (actor == to and not host_online):
        raise Refused("not_host", "only the host hands over control (or anyone, while the host is offline)")
    return party if to == party.host else msgspec.structs.replace(party, host=to)


def configure(
    party: Party,
    actor: str,
    *,
    control: Control | None,
    wait_for_buffering: bool | None,
    now: float,
    lead_ms: float,
    online: frozenset[str],
) -> Party:
    if actor != party.host:
        raise Refused("not_host", "only the host changes the party's settings")
    changed = msgspec.structs.replace(
        party,
        control=control if control is not None else party.control,
        wait_for_buffering=wait_for_buffering if wait_for_buffering is not None else party.wait_for_buffering,
    )
    return settle(changed, now=now, lead_ms=lead_ms, online=online)


def _check_position(position: float, duration: float | None) -> None:
    if not math.isfinite(position) or position < 0:
        raise Refused("invalid_position", "a position cannot be negative")
    if duration is not None and position > duration:
        raise Refused(
            "seek_out_of_range",
            f"the video is {duration:g} s long; {position:g} s is past its end",
            {"duration": duration},
        )


def _paused(playback: Playback, at: float) -> Playback:
    return msgspec.structs.replace(playback, playing=False, position=playback.position_at(at), at=at)


def _changed(party: Party, playback: Playback, **changes: Any) -> Party:
    """A new playback: one version more."""
    playback = msgspec.structs.replace(playback, version=party.playback.version + 1)
    return msgspec.structs.replace(party, playback=playback, **changes)

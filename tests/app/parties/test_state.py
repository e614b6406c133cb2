"""The party state machine, on its own: no I/O, explicit times."""

from __future__ import annotations

import msgspec
import pytest

from app.parties import state
from app.parties.state import Member, Party, Refused

HOST, GUEST, OTHER = Member("h", "host"), Member("g", "guest"), Member("o", "other")
T0 = 1_000_000.0  # server time, ms
LEAD = 500.0
NOBODY: frozenset[str] = frozenset()


def party(**settings: object) -> Party:
    started = state.start("p1", HOST, "v1", 600.0, now=T0, **settings)
    return state.join(state.join(started, GUEST), OTHER)


def play(p: Party, actor: str = "h", now: float = T0, online: frozenset[str] = NOBODY) -> Party:
    return state.command(p, actor, state.Play(p.playback.version), now=now, lead_ms=LEAD, online=online)


def refused(code: str, p: Party, actor: str, change: state.Command, now: float = T0) -> Refused:
    with pytest.raises(Refused) as caught:
        state.command(p, actor, change, now=now, lead_ms=LEAD, online=NOBODY)
    assert caught.value.code == code
    return caught.value


def test_a_new_party_is_paused_at_the_start_with_its_creator_in_control() -> None:
    p = state.start("p1", HOST, "v1", None, now=T0)
    assert (p.host, p.control, p.wait_for_buffering, p.members) == ("h", "host", True, (HOST,))
    assert (p.playback.playing, p.playback.position, p.playback.rate, p.playback.version) == (False, 0, 1, 1)
    assert p.playback.position_at(T0 + 60_000) == 0


def test_play_is_scheduled_ahead_and_position_follows_server_time() -> None:
    p = play(party())
    assert p.playback.playing and p.playback.at == T0 + LEAD and p.playback.version == 2
    assert p.playback.position_at(T0 + LEAD - 100) == 0  # not started yet
    assert p.playback.position_at(T0 + LEAD + 2500) == pytest.approx(2.5)
    assert p.playback.position_at(T0 + LEAD + 10_000_000) == 600.0  # stops at the end


def test_pause_lands_exactly_where_playback_is_at_its_time() -> None:
    p = play(party())
    paused = state.command(p, "h", state.Pause(2), now=T0 + 10_500, lead_ms=200, online=NOBODY)
    assert not paused.playback.playing and not paused.wants_to_play
    assert paused.playback.at == T0 + 10_700
    assert paused.playback.position == pytest.approx(10.2)
    assert paused.playback.position_at(T0 + 99_000) == pytest.approx(10.2)


def test_a_change_never_takes_effect_before_one_already_scheduled() -> None:
    p = play(party())  # starts at T0 + 500
    paused = state.command(p, "h", state.Pause(2), now=T0 + 100, lead_ms=150, online=NOBODY)
    assert paused.playback.at == T0 + LEAD and paused.playback.position == 0


def test_seek_rate_and_video_change() -> None:
    p = play(party())
    sought = state.command(p, "h", state.Seek(2, 120.0), now=T0 + 5000, lead_ms=LEAD, online=NOBODY)
    assert sought.playback.playing and sought.playback.position == 120 and sought.playback.at == T0 + 5500
    faster = state.command(sought, "h", state.SetRate(3, 1.5), now=T0 + 7500, lead_ms=150, online=NOBODY)
    assert faster.playback.rate == 1.5 and faster.playback.at == T0 + 7650
    assert faster.playback.position == pytest.approx(120 + 2.15)
    assert faster.playback.position_at(T0 + 9650) == pytest.approx(122.15 + 3.0)
    other = state.command(
        faster, "h", state.ChangeVideo(4, "v2", None), now=T0 + 8000, lead_ms=LEAD, online=NOBODY
    )
    assert (other.playback.video_id, other.playback.position, other.playback.duration) == ("v2", 0.0, None)
    assert other.playback.playing and other.playback.rate == 1.5 and other.playback.version == 5


def test_repeating_the_current_wish_changes_nothing() -> None:
    p = play(party())
    assert play(p) is p
    paused = state.command(party(), "h", state.Pause(1), now=T0, lead_ms=LEAD, online=NOBODY)
    assert paused.playback.version == 1


def test_host_only_control() -> None:
    p = party()
    error = refused("not_host", p, "g", state.Play(1))
    assert error.details == {"host": "h"}
    refused("not_member", p, "stranger", state.Play(1))
    everyone = party(control="everyone")
    assert play(everyone, actor="g").playback.playing
    refused("not_member", everyone, "stranger", state.Play(1))


def test_a_stale_version_is_refused_with_the_current_one() -> None:
    p = play(party())
    error = refused("stale_version", p, "h", state.Pause(1))
    assert error.details == {"version": 2}
    refused("stale_version", p, "h", state.Pause(3))


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (state.Seek(1, -1.0), "invalid_position"),
        (state.Seek(1, 600.5), "seek_out_of_range"),
        (state.SetRate(1, -1.0), "invalid_rate"),
        (state.SetRate(1, 0.0), "invalid_rate"),
        (state.SetRate(1, 4.5), "invalid_rate"),
    ],
)
def test_bad_commands(change: state.Command, code: str) -> None:
    refused(code, party(), "h", change)


def test_seeking_a_video_of_unknown_duration() -> None:
    p = state.start("p1", HOST, "v1", None, now=T0)
    far = state.command(p, "h", state.Seek(1, 99_999.0), now=T0, lead_ms=LEAD, online=NOBODY)
    assert far.playback.position == 99_999.0  # nothing to check against
    refused("invalid_position", p, "h", state.Seek(1, -0.5))
    # The catalog learned the duration meanwhile: the seek is checked and the party keeps it.
    refused("seek_out_of_range", p, "h", state.Seek(1, 700.0, duration=650.0))
    known = state.command(p, "h", state.Seek(1, 10.0, duration=650.0), now=T0, lead_ms=LEAD, online=NOBODY)
    assert known.playback.duration == 650.0


def test_a_buffering_member_makes_the_group_wait_and_playback_resumes_when_all_are_ready() -> None:
    online = frozenset({"c-host", "c-guest"})
    p = state.report(party(), "c-host", "h", buffering=False, rtt_ms=80, now=T0, lead_ms=LEAD, online=online)
    p = play(p, online=online)
    assert p.playback.playing
    # The guest's player stalls 3 s after the start: everyone pauses where playback is then.
    stall = T0 + LEAD + 3000
    p = state.report(p, "c-guest", "g", buffering=True, rtt_ms=None, now=stall, lead_ms=LEAD, online=online)
    assert not p.playback.playing and p.wants_to_play and p.waiting(online)
    assert p.playback.position == pytest.approx(3.0) and p.playback.at == stall
    assert p.blocking(online) == ["g"]
    # A play meanwhile changes nothing: the group already wants to play.
    assert play(p, now=stall + 100, online=online) is p
    ready = state.report(
        p, "c-guest", "g", buffering=False, rtt_ms=None, now=stall + 2000, lead_ms=LEAD, online=online
    )
    assert ready.playback.playing and ready.playback.at == stall + 2000 + LEAD
    assert ready.playback.position == pytest.approx(3.0)


def test_without_waiting_a_buffering_member_holds_nobody_up() -> None:
    online = frozenset({"c-guest"})
    p = play(party(wait_for_buffering=False))
    p = state.report(
        p, "c-guest", "g", buffering=True, rtt_ms=None, now=T0 + 900, lead_ms=LEAD, online=online
    )
    assert p.playback.playing and not p.waiting(online)


def test_play_while_someone_buffers_waits_for_them() -> None:
    online = frozenset({"c-guest"})
    p = state.report(
        party(), "c-guest", "g", buffering=True, rtt_ms=None, now=T0, lead_ms=LEAD, online=online
    )
    waiting = play(p, online=online)
    assert waiting.wants_to_play and not waiting.playback.playing and waiting.playback.version == 2
    # The buffering connection goes away: playback starts.
    gone = state.disconnect(waiting, "c-guest", now=T0 + 1000, lead_ms=LEAD, online=online)
    assert gone.playback.playing and gone.playback.at == T0 + 1000 + LEAD
    # Its instance crashed instead (it is no longer online): a play starts the waiting group.
    unstuck = play(waiting, now=T0 + 1000, online=NOBODY)
    assert unstuck.playback.playing and unstuck.playback.version == 3
    # A buffering report of a connection that is not online (a crashed instance) holds nobody up.
    assert play(p, online=NOBODY).playback.playing


def test_lead_covers_twice_the_slowest_online_round_trip() -> None:
    p = party()
    for connection, user, rtt in (("c1", "h", 40.0), ("c2", "g", 310.0), ("c3", "o", 900.0)):
        p = state.report(
            p, connection, user, buffering=False, rtt_ms=rtt, now=T0, lead_ms=LEAD, online=NOBODY
        )
    assert state.lead(p, frozenset({"c1"}), 500, 5000) == 500
    assert state.lead(p, frozenset({"c1", "c2"}), 500, 5000) == 620
    assert state.lead(p, frozenset({"c1", "c2", "c3"}), 500, 1500) == 1500
    # A report without a round trip keeps the one reported before.
    again = state.report(p, "c2", "g", buffering=True, rtt_ms=None, now=T0, lead_ms=LEAD, online=NOBODY)
    assert again.links["c2"].rtt_ms == 310.0


def test_host_leaving_hands_control_to_the_longest_standing_online_member() -> None:
    p = party()
    left = state.leave(p, "h", now=T0, lead_ms=LEAD, online=NOBODY, online_users=frozenset({"o"}))
    assert left is not None and left.host == "o" and [m.id for m in left.members] == ["g", "o"]
    nobody_online = state.leave(p, "h", now=T0, lead_ms=LEAD, online=NOBODY, online_users=NOBODY)
    assert nobody_online is not None and nobody_online.host == "g"
    guest_left = state.leave(p, "g", now=T0, lead_ms=LEAD, online=NOBODY, online_users=NOBODY)
    assert guest_left is not None and guest_left.host == "h"
    alone = state.start("p2", HOST, "v1", None, now=T0)
    assert state.leave(alone, "h", now=T0, lead_ms=LEAD, online=NOBODY, online_users=NOBODY) is None


def test_a_leaving_member_stops_holding_the_group_up() -> None:
    online = frozenset({"c-guest"})
    p = state.report(
        party(), "c-guest", "g", buffering=True, rtt_ms=None, now=T0, lead_ms=LEAD, online=online
    )
    p = play(p, online=online)
    left = state.leave(p, "g", now=T0 + 100, lead_ms=LEAD, online=online, online_users=frozenset({"g"}))
    assert left is not None and left.playback.playing and "c-guest" not in left.links


def test_handing_over_control() -> None:
    p = party()
    assert state.hand_over(p, "h", "g", host_online=True).host == "g"
    with pytest.raises(Refused) as not_host:
        state.hand_over(p, "g", "g", host_online=True)
    assert not_host.value.code == "not_host"
    assert state.hand_over(p, "g", "g", host_online=False).host == "g"  # the host is gone
    with pytest.raises(Refused) as stranger:
        state.hand_over(p, "h", "stranger", host_online=True)
    assert stranger.value.code == "not_member"


def test_configure_is_for_the_host_and_turning_waiting_off_resumes() -> None:
    online = frozenset({"c-guest"})
    p = state.report(
        party(), "c-guest", "g", buffering=True, rtt_ms=None, now=T0, lead_ms=LEAD, online=online
    )
    waiting = play(p, online=online)
    with pytest.raises(Refused):
        state.configure(
            waiting, "g", control="everyone", wait_for_buffering=None, now=T0, lead_ms=LEAD, online=online
        )
    resumed = state.configure(
        waiting, "h", control="everyone", wait_for_buffering=False, now=T0, lead_ms=LEAD, online=online
    )
    assert resumed.control == "everyone" and resumed.playback.playing


def test_the_state_round_trips_through_json() -> None:
    p = state.report(
        play(party()), "c1", "g", buffering=True, rtt_ms=12.5, now=T0, lead_ms=LEAD, online=NOBODY
    )
    assert msgspec.json.decode(msgspec.json.encode(p), type=Party) == p

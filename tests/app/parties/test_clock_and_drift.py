"""Clock sync filter and drift policy: pure code, checked against known truths."""

from __future__ import annotations

import random
import statistics

import pytest

from app.parties.drift import MYDRTV, SYNCPLAY, Hold, SeekTo, SetRate, SyncPolicy, correct
from realtime.clock import ClockFilter, Sample

TRUE_OFFSET = 7_345.25  # server clock minus client clock, ms


def exchange(rng: random.Random, client_time: float, offset: float = TRUE_OFFSET) -> Sample:
    """One exchange over a network with 20-150 ms jittered one-way delays."""
    up, down, server_work = rng.uniform(20, 150), rng.uniform(20, 150), rng.uniform(0, 2)
    t2 = client_time + up + offset
    t3 = t2 + server_work
    return Sample(client_time, t2, t3, t3 - offset + down)


def test_a_sample_bounds_the_offset_and_ntp_estimates_it() -> None:
    sample = Sample(client_sent=1000, server_received=8400, server_sent=8401, client_received=1130)
    assert sample.delay == 129
    assert sample.lower <= sample.offset <= sample.upper
    assert (sample.lower, sample.upper) == (7271, 7400)


def test_the_filter_beats_a_single_exchange_and_the_min_delay_of_8() -> None:
    rng = random.Random(5)
    ours_errors, syncplay_errors, single_errors = [], [], []
    for _ in range(200):
        ours, syncplay = ClockFilter(), ClockFilter(window=8, bounds=False)
        for n in range(20):
            sample = exchange(rng, 1000.0 * n)
            ours.add(sample)
            syncplay.add(sample)
        assert ours.offset is not None and syncplay.offset is not None
        ours_errors.append(abs(ours.offset - TRUE_OFFSET))
        syncplay_errors.append(abs(syncplay.offset - TRUE_OFFSET))
        single_errors.append(abs(sample.offset - TRUE_OFFSET))
        assert ours.error_ms is not None and abs(ours.offset - TRUE_OFFSET) <= ours.error_ms
    assert statistics.median(ours_errors) < 6
    assert statistics.median(ours_errors) < statistics.median(syncplay_errors) / 2
    assert statistics.median(syncplay_errors) < statistics.median(single_errors)


def test_old_exchanges_leave_and_a_stepped_clock_falls_back_to_the_fastest_exchange() -> None:
    rng = random.Random(1)
    clock = ClockFilter(window=32, max_age_ms=10_000)
    assert clock.offset is None and clock.round_trip_ms() is None
    for n in range(5):
        clock.add(exchange(rng, 1000.0 * n))
    for n in range(5, 8):  # the server's clock stepped by a second (another instance, say)
        clock.add(exchange(rng, 1000.0 * n, offset=TRUE_OFFSET + 1000))
    assert clock.offset is not None
    fastest = min(clock.samples, key=lambda s: s.delay)
    assert clock.offset == fastest.offset  # the bounds contradict each other
    for n in range(30, 35):
        clock.add(exchange(rng, 1000.0 * n, offset=TRUE_OFFSET + 1000))
    assert len(clock.samples) == 5  # the others were over 10 s old
    assert clock.offset == pytest.approx(TRUE_OFFSET + 1000, abs=60)
    clock.reset()
    assert clock.offset is None


def test_an_exchange_with_negative_delay_is_ignored() -> None:
    clock = ClockFilter()
    clock.add(Sample(1000, 5000, 5001, 990))
    assert clock.offset is None


def test_round_trip_quantile() -> None:
    clock = ClockFilter()
    for delay in range(10, 110, 10):
        clock.add(Sample(0, 0, 0, float(delay)))
    assert clock.round_trip_ms(0.9) == 100
    assert clock.round_trip_ms(0.0) == 10


def decide(policy: SyncPolicy, drift_ms: float, *, playing: bool = True, player_rate: float = 1.0) -> object:
    return correct(
        policy, drift_ms=drift_ms, target=42.0, playing=playing, party_rate=1.0, player_rate=player_rate
    )


def test_thresholds() -> None:
    assert decide(MYDRTV, 5) == Hold()
    assert decide(MYDRTV, 20) == SetRate(pytest.approx(1 - 20 / 300))
    assert decide(MYDRTV, -40) == SetRate(pytest.approx(1.1))  # capped at +10 %
    assert decide(MYDRTV, 250) == SeekTo(42.0)
    assert decide(MYDRTV, -4000) == SeekTo(42.0)
    # A rate correction under way goes on down to 2 ms, then the rate goes back.
    assert decide(MYDRTV, 4, player_rate=0.99) == SetRate(pytest.approx(1 - 4 / 300))
    assert decide(MYDRTV, 1.5, player_rate=0.99) == SetRate(1.0)
    # Paused: any drift over 5 ms is a (free) seek.
    assert decide(MYDRTV, 6, playing=False) == SeekTo(42.0)
    assert decide(MYDRTV, 4, playing=False) == Hold()
    # SyncPlay's: nothing under 60 ms, rate up to 400 ms, seek beyond.
    assert decide(SYNCPLAY, 59) == Hold()
    assert decide(SYNCPLAY, 100) == SetRate(pytest.approx(0.9))
    assert decide(SYNCPLAY, 400) == SeekTo(42.0)


def test_rate_correction_converges_without_overshoot() -> None:
    """A player 200 ms behind, corrected every 50 ms: within 3 ms in under 2.5 s."""
    drift, rate, elapsed = -200.0, 1.0, 0.0
    history = []
    while elapsed < 5000:
        decision = correct(MYDRTV, drift_ms=drift, target=0, playing=True, party_rate=1.0, player_rate=rate)
        if isinstance(decision, SetRate):
            rate = decision.rate
        drift += (rate - 1.0) * 50
        elapsed += 50
        history.append(drift)
    settled = next(n for n, d in enumerate(history) if abs(d) <= 3) * 50
    assert settled <= 2500
    assert all(d <= 0.5 for d in history)  # approaches from behind, never overshoots
    assert abs(history[-1]) <= 3 and rate == 1.0

"""The drift-correction policy every client applies, with its thresholds.

Drift is how far a player is from where the party's state says it should be (``position_at``
the current server time): positive when ahead. Small drift is removed by nudging the playback
rate, which nobody notices; large drift by a seek, which everyone notices but which is quick.
While paused a seek costs nothing, so the threshold is tiny.

The server sends these numbers with the party (``GET /parties/{id}``: ``sync_policy``), so the
reference client here and the web client correct with the same thresholds.
"""

from __future__ import annotations

import msgspec


class SyncPolicy(msgspec.Struct, frozen=True):
    rate_from_ms: float = 6.0  # start correcting by rate when further off than this
    rate_until_ms: float = 2.0  # and go back to the party's rate once within this
    rate_horizon_ms: float = 300.0  # aim to remove the drift within about this time
    max_rate_adjust: float = 0.10  # never more than 10 % away from the party's rate
    seek_from_ms: float = 250.0  # further off than this while playing: seek
    paused_seek_from_ms: float = 5.0  # while paused: seek when further off than this
    # Learn how late the player starts and how long its seeks take, and act that much earlier.
    compensate: bool = True


MYDRTV = SyncPolicy()
# Jellyfin SyncPlay's defaults: speed-to-sync from 60 ms (speed 1 + drift / 1 s), skip-to-sync from
# 400 ms, no hysteresis, no compensation. For the benchmark's comparison.
SYNCPLAY = SyncPolicy(
    rate_from_ms=60.0,
    rate_until_ms=60.0,
    rate_horizon_ms=1000.0,
    max_rate_adjust=0.4,
    seek_from_ms=400.0,
    paused_seek_from_ms=5.0,
    compensate=False,
)


class Hold(msgspec.Struct, frozen=True):
    """Nothing to do."""


class SetRate(msgspec.Struct, frozen=True):
    rate: float


class SeekTo(msgspec.Struct, frozen=True):
    position: float  # seconds, where the party is now; add the player's seek time when playing


Correction = Hold | SetRate | SeekTo


def correct(
    policy: SyncPolicy,
    *,
    drift_ms: float,
    target: float,
    playing: bool,
    party_rate: float,
    player_rate: float,
) -> Correction:
    """What to do about ``drift_ms`` (player minus party) when the party is at ``target`` seconds.

    ``player_rate`` different from ``party_rate`` means a rate correction is under way: it goes on
    until the drift is within ``rate_until_ms`` (hysteresis, so the rate does not flap)."""
    size = abs(drift_ms)
    if not playing:
        return SeekTo(target) if size > policy.paused_seek_from_ms else Hold()
    if size >= policy.seek_from_ms:
        return SeekTo(target)
    correcting = player_rate != party_rate
    if size > policy.rate_from_ms or (correcting and size > policy.rate_until_ms):
        limit = party_rate * policy.max_rate_adjust
        adjust = max(-limit, min(limit, -drift_ms / policy.rate_horizon_ms))
        return SetRate(party_rate + adjust)
    return SetRate(party_rate) if correcting else Hold()

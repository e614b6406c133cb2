/**
 * The drift policy of docs/protocol.md ("Following the state") as one pure function, with its
 * thresholds as data, so the same player can run the party's own policy or Jellyfin SyncPlay's
 * thresholds for the benchmark.
 */

import type { SyncPolicyWire } from './types';

export interface SyncPolicy {
  /** Start correcting by rate when further off than this (ms). */
  rateFromMs: number;
  /** Once correcting, go back to the party's rate within this (ms). */
  rateUntilMs: number;
  /** Aim to remove the drift in about this long (ms). */
  rateHorizonMs: number;
  /** Never further than this fraction from the party's rate. */
  maxRateAdjust: number;
  /** Playing and at least this far off (ms): seek. */
  seekFromMs: number;
  /** Paused and further off than this (ms): seek (free while paused). */
  pausedSeekFromMs: number;
  /** Learn the player's start and seek latencies and act that much earlier. */
  compensate: boolean;
}

/** The server's defaults (`sync_policy` of a party). */
export const MYDRTV_POLICY: SyncPolicy = {
  rateFromMs: 6,
  rateUntilMs: 2,
  rateHorizonMs: 300,
  maxRateAdjust: 0.1,
  seekFromMs: 250,
  pausedSeekFromMs: 5,
  compensate: true,
};

/**
 * Jellyfin SyncPlay's thresholds: speed-to-sync from 60 ms (speed 1 + drift / 1 s), skip-to-sync
 * from 400 ms, no hysteresis band, no latency compensation.
 */
export const SYNCPLAY_POLICY: SyncPolicy = {
  rateFromMs: 60,
  rateUntilMs: 60,
  rateHorizonMs: 1000,
  maxRateAdjust: 0.4,
  seekFromMs: 400,
  pausedSeekFromMs: 5,
  compensate: false,
};

export function policyFromWire(wire: SyncPolicyWire): SyncPolicy {
  return {
    rateFromMs: wire.rate_from_ms,
    rateUntilMs: wire.rate_until_ms,
    rateHorizonMs: wire.rate_horizon_ms,
    maxRateAdjust: wire.max_rate_adjust,
    seekFromMs: wire.seek_from_ms,
    pausedSeekFromMs: wire.paused_seek_from_ms,
    compensate: wire.compensate,
  };
}

export type DriftAction =
  /** Play at `rate` (the party's own rate): nothing to correct. */
  | { kind: 'none'; rate: number; driftMs: number }
  /** Set the player's rate to `rate` for a while. */
  | { kind: 'rate'; rate: number; driftMs: number }
  /** Seek to `position` (seconds). */
  | { kind: 'seek'; position: number; driftMs: number };

export interface DriftInput {
  /** Where the party is now: `position_at(server now)`, seconds. */
  expected: number;
  /** Where the player is, seconds. */
  actual: number;
  /** The party's rate. */
  rate: number;
  /** Server time now, ms (the seek target is `position_at(now + seek latency)`). */
  now: number;
  playing: boolean;
  /** True while a rate correction is under way (the band between rate_until and rate_from). */
  correcting: boolean;
  /** The player's learned seek latency, ms (used when the policy compensates). */
  seekLatencyMs?: number;
  /** Media length, seconds, to keep a seek target inside it. */
  duration?: number | null;
}

/** What to do about the drift between the player and the party (positive drift: ahead). */
export function decideDrift(input: DriftInput, policy: SyncPolicy): DriftAction {
  // Rounded to the nanosecond, so that binary fractions do not move a drift across a threshold.
  const driftMs = Math.round((input.actual - input.expected) * 1e9) / 1e6;
  const size = Math.abs(driftMs);
  if (!input.playing) {
    if (size > policy.pausedSeekFromMs) return { kind: 'seek', position: input.expected, driftMs };
    return { kind: 'none', rate: input.rate, driftMs };
  }
  if (size >= policy.seekFromMs) {
    const ahead = policy.compensate ? (input.seekLatencyMs ?? 0) : 0;
    // position_at(now + ahead) = expected + rate × ahead, measured from the same `now`.
    let position = input.expected + (input.rate * ahead) / 1000;
    if (input.duration != null) position = Math.min(position, input.duration);
    return { kind: 'seek', position: Math.max(0, position), driftMs };
  }
  if (size > policy.rateFromMs || (input.correcting && size > policy.rateUntilMs)) {
    const wanted = input.rate - driftMs / policy.rateHorizonMs;
    const lowest = input.rate * (1 - policy.maxRateAdjust);
    const highest = input.rate * (1 + policy.maxRateAdjust);
    return { kind: 'rate', rate: Math.min(highest, Math.max(lowest, wanted)), driftMs };
  }
  return { kind: 'none', rate: input.rate, driftMs };
}

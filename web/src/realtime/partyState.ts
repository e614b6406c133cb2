/** Pure helpers over a party's state (docs/protocol.md, "The state"). */

import type { PartyState, Playback } from './types';

/** Where playback is at server time `t` (ms), in seconds: `position_at(t)` of the protocol. */
export function positionAt(playback: Playback, t: number): number {
  const moved = playback.playing ? (playback.rate * (t - playback.at)) / 1000 : 0;
  const position = playback.position + Math.max(0, moved);
  return playback.duration == null ? position : Math.min(playback.duration, position);
}

/** True when `next` should replace `current`: states from several instances may arrive out of order. */
export function isNewer(next: PartyState, current: PartyState | null): boolean {
  return current === null || next.revision > current.revision;
}

/** Tolerance (s) under which a new state's position counts as continuing the previous one. */
const SAME_POSITION = 0.001;

/**
 * True when `next` jumps relative to `previous`: a new video, or a position that differs from
 * where `previous` would be at `next.at`. A jump lets the player seek ahead of time.
 */
export function jumps(previous: Playback | null, next: Playback): boolean {
  if (previous === null || previous.video_id !== next.video_id) return true;
  return Math.abs(positionAt(previous, next.at) - next.position) > SAME_POSITION;
}

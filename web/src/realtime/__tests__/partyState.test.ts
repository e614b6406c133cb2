import { describe, expect, it } from 'vitest';

import { isNewer, jumps, positionAt } from '../partyState';
import type { PartyState, Playback } from '../types';

const playback = (over: Partial<Playback> = {}): Playback => ({
  video_id: 'v',
  duration: 5400,
  playing: true,
  position: 600,
  at: 1_764_093_600_000,
  rate: 1,
  version: 9,
  ...over,
});

describe('position_at (docs/protocol.md, The state)', () => {
  it('moves rate seconds per second from `at` while playing, and stops at the end', () => {
    const p = playback();
    expect(positionAt(p, p.at + 1500)).toBe(601.5);
    expect(positionAt(playback({ rate: 2 }), p.at + 1500)).toBe(603);
    expect(positionAt(playback({ playing: false }), p.at + 1500)).toBe(600);
    expect(positionAt(playback({ position: 5399 }), p.at + 5000)).toBe(5400);
    expect(positionAt(playback({ duration: null, position: 5399 }), p.at + 5000)).toBe(5404);
    expect(positionAt(p, p.at - 1000)).toBe(600); // not started yet
  });

  it('tells a jump from a continuation', () => {
    const before = playback();
    expect(jumps(before, playback({ position: 601, at: before.at + 1000, playing: false }))).toBe(false);
    expect(jumps(before, playback({ position: 1250.5, at: before.at + 1000 }))).toBe(true);
    expect(jumps(before, playback({ video_id: 'w', position: 0, at: before.at + 1000 }))).toBe(true);
    expect(jumps(null, before)).toBe(true);
  });

  it('keeps only newer revisions', () => {
    const state = (revision: number): PartyState =>
      ({ revision, playback: playback() }) as unknown as PartyState;
    expect(isNewer(state(18), state(17))).toBe(true);
    expect(isNewer(state(17), state(17))).toBe(false);
    expect(isNewer(state(16), state(17))).toBe(false);
    expect(isNewer(state(1), null)).toBe(true);
  });
});

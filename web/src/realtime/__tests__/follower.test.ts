import { describe, expect, it } from 'vitest';

import { MYDRTV_POLICY, SYNCPLAY_POLICY } from '../drift';
import { partyState, Simulation } from './fakePlayer';

const T0 = 100_000; // server time of the first state

describe("following a party's state on a player", () => {
  it('starts at `at`, corrects the late start by rate, never seeks or pauses, and learns the start latency', () => {
    const sim = new Simulation(MYDRTV_POLICY, { startDelayMs: 120 });
    sim.runUntil(T0 - 2000);
    sim.follower.setState(partyState(1, { playing: false, position: 0, at: T0 - 2000 }));
    sim.follower.setState(partyState(2, { playing: true, position: 0, at: T0 }));
    sim.runUntil(T0 + 200);
    // Started at T0, moving from T0 + 120 ms: 120 ms behind, corrected by rate (1.1 at most).
    expect(sim.player.playbackRate).toBeCloseTo(1.1, 9);
    expect(sim.follower.stats.startLatencyMs).toBe(60); // half of the 120 ms error
    sim.runUntil(T0 + 3000);
    expect(sim.worstDriftSince(T0 + 2000)).toBeLessThan(6);
    expect(sim.player.playbackRate).toBe(1);
    expect(sim.follower.stats).toMatchObject({ correctiveSeeks: 0, pauses: 0, plays: 1 });
    // The rate stepped down as the gap closed: several changes, but one correction.
    expect(sim.follower.stats.rateChanges).toBeGreaterThan(1);
    expect(sim.follower.stats.rateCorrections).toBe(1);

    // Pause, then play again: play() goes out 60 ms early; the player, paused 2 ms short of 4 s,
    // ends up 62 ms behind, so the estimate moves on to 60 + 62 / 2 = 91.
    sim.follower.setState(partyState(3, { playing: false, position: 4, at: T0 + 4000 }));
    sim.runUntil(T0 + 4500);
    expect(sim.player.paused).toBe(true);
    // It stopped 2 ms short of 4 s: within the 5 ms a paused player is left alone.
    expect(Math.abs(sim.player.position - 4)).toBeLessThanOrEqual(0.005);
    sim.follower.setState(partyState(4, { playing: true, position: 4, at: T0 + 6000 }));
    sim.runUntil(T0 + 6500);
    expect(sim.follower.stats.startLatencyMs).toBeCloseTo(91, 0);
    sim.runUntil(T0 + 9000);
    expect(sim.worstDriftSince(T0 + 8000)).toBeLessThan(6);
    expect(sim.follower.stats).toMatchObject({ correctiveSeeks: 0, pauses: 1, plays: 2, rateCorrections: 2 });
  });

  it('loads a jump ahead of time: pauses and seeks at once, plays when everyone does', () => {
    const sim = new Simulation(MYDRTV_POLICY, { seekDelayMs: 80 });
    sim.follower.setState(partyState(1, { playing: true, position: 0, at: sim.serverNow() }));
    sim.runUntil(sim.serverNow() + 1000);
    const at = sim.serverNow() + 500;
    sim.follower.setState(partyState(2, { playing: true, position: 300, at }));
    expect(sim.player.paused).toBe(true);
    expect(sim.player.position).toBe(300);
    sim.runUntil(at - 1);
    expect(sim.player.position).toBe(300);
    sim.runUntil(at + 1000);
    expect(sim.worstDriftSince(at)).toBeLessThan(2);
    expect(sim.follower.stats).toMatchObject({ correctiveSeeks: 0, quietSeeks: 1 });
  });

  it("follows the previous state until a new one's `at` comes", () => {
    const sim = new Simulation(MYDRTV_POLICY);
    sim.follower.setState(partyState(1, { playing: true, position: 0, at: sim.serverNow() }));
    sim.runUntil(sim.serverNow() + 1000);
    const at = sim.serverNow() + 300;
    sim.follower.setState(partyState(2, { playing: true, position: 1.3, at, rate: 2 }));
    sim.runUntil(at - 10);
    expect(sim.player.playbackRate).toBe(1);
    expect(sim.player.paused).toBe(false);
    sim.runUntil(at + 1000);
    expect(sim.player.playbackRate).toBe(2);
    expect(sim.worstDriftSince(at)).toBeLessThan(2);
  });

  it('seeks once after a stall, aiming ahead by the learned seek latency', () => {
    const sim = new Simulation(MYDRTV_POLICY, { seekDelayMs: 100 });
    sim.follower.setState(partyState(1, { playing: true, position: 0, at: sim.serverNow() }));
    sim.runUntil(sim.serverNow() + 1000);
    sim.player.stall(1000);
    const stalledAt = sim.serverNow();
    sim.runUntil(stalledAt + 1500);
    expect(sim.follower.stats.correctiveSeeks).toBe(1);
    // It landed 100 ms behind (99 at the millisecond the simulation measures): half of it is learned.
    expect(sim.follower.stats.seekLatencyMs).toBe(49.5);
    sim.runUntil(stalledAt + 5000);
    expect(sim.worstDriftSince(stalledAt + 4000)).toBeLessThan(6);
    expect(sim.follower.stats.correctiveSeeks).toBe(1);
    expect(sim.follower.stats.pauses).toBe(0);
  });

  it("leaves 50 ms alone with SyncPlay's thresholds, where the party's policy removes it", () => {
    const run = (policy: typeof MYDRTV_POLICY): number => {
      const sim = new Simulation(policy, { startDelayMs: 50 });
      sim.follower.setState(partyState(1, { playing: true, position: 0, at: sim.serverNow() + 100 }));
      sim.runUntil(sim.serverNow() + 5000);
      return sim.worstDriftSince(sim.serverNow() - 1000);
    };
    expect(run(SYNCPLAY_POLICY)).toBeCloseTo(50, 0);
    expect(run(MYDRTV_POLICY)).toBeLessThan(6);
  });

  it('ignores states that are not newer, and keeps following when only members changed', () => {
    const sim = new Simulation(MYDRTV_POLICY);
    expect(sim.follower.setState(partyState(5, { playing: true, at: sim.serverNow() }))).toBe(true);
    expect(sim.follower.setState(partyState(4, { playing: false, at: sim.serverNow() }))).toBe(false);
    expect(sim.follower.setState(partyState(5, { playing: false, at: sim.serverNow() }))).toBe(false);
    expect(sim.follower.current?.revision).toBe(5);
    const sameVersion = partyState(
      6,
      { playing: true, at: sim.serverNow(), version: 5 },
      { members: [{ id: 'b', handle: 'bob' }] },
    );
    expect(sim.follower.setState(sameVersion)).toBe(true);
    expect(sim.follower.stats.pauses).toBe(0);
  });

  it('reports buffering after 500 ms of a player that cannot play while the group wants to', () => {
    const reports: boolean[] = [];
    const sim = new Simulation(MYDRTV_POLICY, {}, (buffering) => reports.push(buffering));
    sim.follower.setState(partyState(1, { playing: true, position: 0, at: sim.serverNow() }));
    sim.runUntil(sim.serverNow() + 200);
    sim.player.readyState = 2;
    const from = sim.serverNow();
    sim.runUntil(from + 450);
    expect(reports).toEqual([]);
    sim.runUntil(from + 600);
    expect(reports).toEqual([true]);
    sim.player.readyState = 4;
    sim.runUntil(sim.serverNow() + 60);
    expect(reports).toEqual([true, false]);
  });
});

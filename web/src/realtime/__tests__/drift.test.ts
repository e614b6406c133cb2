import { describe, expect, it } from 'vitest';

import { decideDrift, MYDRTV_POLICY, policyFromWire, SYNCPLAY_POLICY, type DriftInput } from '../drift';

const playing = (actual: number, extra: Partial<DriftInput> = {}): DriftInput => ({
  expected: 10,
  actual,
  rate: 1,
  now: 0,
  playing: true,
  correcting: false,
  ...extra,
});

describe("the drift policy with the party's thresholds (docs/protocol.md, Following the state)", () => {
  it('does nothing within 6 ms', () => {
    expect(decideDrift(playing(10.004), MYDRTV_POLICY)).toMatchObject({ kind: 'none', rate: 1 });
    expect(decideDrift(playing(10.006), MYDRTV_POLICY)).toMatchObject({ kind: 'none' });
  });

  it('corrects by rate: party rate − drift / 300 ms, within ±10 %', () => {
    const ahead15 = decideDrift(playing(10.015), MYDRTV_POLICY);
    expect(ahead15.kind).toBe('rate');
    expect(ahead15.kind === 'rate' && ahead15.rate).toBeCloseTo(0.95, 9); // 1 − 15/300
    const ahead30 = decideDrift(playing(10.03), MYDRTV_POLICY);
    expect(ahead30.kind === 'rate' && ahead30.rate).toBeCloseTo(0.9, 9); // 1 − 30/300, the floor
    const behind60 = decideDrift(playing(9.94), MYDRTV_POLICY);
    expect(behind60.kind === 'rate' && behind60.rate).toBeCloseTo(1.1, 9); // 1 + 0.2, capped at 1.1
    const fast = decideDrift(playing(10.03, { rate: 1.5 }), MYDRTV_POLICY);
    expect(fast.kind === 'rate' && fast.rate).toBeCloseTo(1.4, 9); // 1.5 − 0.1, within 1.35..1.65
    const justUnderSeek = decideDrift(playing(10.2499), MYDRTV_POLICY);
    expect(justUnderSeek).toMatchObject({ kind: 'rate' });
  });

  it('keeps correcting down to 2 ms once it started (no flapping at 6 ms)', () => {
    const keep = decideDrift(playing(10.004, { correcting: true }), MYDRTV_POLICY);
    expect(keep.kind === 'rate' && keep.rate).toBeCloseTo(1 - 4 / 300, 9);
    expect(decideDrift(playing(10.0015, { correcting: true }), MYDRTV_POLICY)).toMatchObject({
      kind: 'none',
    });
  });

  it('seeks from 250 ms to where the party will be once the seek is done', () => {
    const seek = decideDrift(playing(10.25, { seekLatencyMs: 80 }), MYDRTV_POLICY);
    expect(seek.kind).toBe('seek');
    expect(seek.kind === 'seek' && seek.position).toBeCloseTo(10.08, 9);
    const double = decideDrift(playing(9, { seekLatencyMs: 80, rate: 2 }), MYDRTV_POLICY);
    expect(double.kind === 'seek' && double.position).toBeCloseTo(10.16, 9);
    const end = decideDrift(playing(5, { expected: 99.99, seekLatencyMs: 80, duration: 100 }), MYDRTV_POLICY);
    expect(end).toMatchObject({ kind: 'seek', position: 100 });
  });

  it('seeks while paused from 5 ms, to the exact target', () => {
    const paused = (actual: number): DriftInput => playing(actual, { playing: false });
    expect(decideDrift(paused(10.005), MYDRTV_POLICY)).toMatchObject({ kind: 'none' });
    expect(decideDrift(paused(10.0051), MYDRTV_POLICY)).toMatchObject({ kind: 'seek', position: 10 });
  });

  it("runs SyncPlay's thresholds: speed from 60 ms (1 + drift / 1 s), skip from 400 ms, no compensation", () => {
    expect(decideDrift(playing(10.059), SYNCPLAY_POLICY)).toMatchObject({ kind: 'none' });
    const speed = decideDrift(playing(9.939), SYNCPLAY_POLICY);
    expect(speed.kind === 'rate' && speed.rate).toBeCloseTo(1.061, 9);
    const slow = decideDrift(playing(10.399), SYNCPLAY_POLICY);
    expect(slow.kind === 'rate' && slow.rate).toBeCloseTo(0.601, 9);
    // No band: once within 60 ms, back to the party's rate even while correcting.
    expect(decideDrift(playing(10.05, { correcting: true }), SYNCPLAY_POLICY)).toMatchObject({
      kind: 'none',
    });
    const skip = decideDrift(playing(10.4, { seekLatencyMs: 80 }), SYNCPLAY_POLICY);
    expect(skip.kind === 'seek' && skip.position).toBeCloseTo(10, 9);
  });

  it('reads the thresholds a party sends', () => {
    const wire = {
      rate_from_ms: 6.0,
      rate_until_ms: 2.0,
      rate_horizon_ms: 300.0,
      max_rate_adjust: 0.1,
      seek_from_ms: 250.0,
      paused_seek_from_ms: 5.0,
      compensate: true,
    };
    expect(policyFromWire(wire)).toEqual(MYDRTV_POLICY);
  });
});

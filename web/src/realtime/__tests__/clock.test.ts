import { describe, expect, it } from 'vitest';

import { ClockWindow, roundTrip, type Exchange } from '../clock';
import { party } from './fixtures';

const e = (t1: number, t2: number, t3: number, t4: number): Exchange => ({ t1, t2, t3, t4 });

describe('clock sync (docs/protocol.md, Clock sync)', () => {
  it('bounds the offset by the tightest request and answer of the window', () => {
    const clock = new ClockWindow();
    clock.add(e(1000, 1510, 1511, 1030)); // 481 ≤ offset ≤ 510, delay 29
    clock.add(e(2000, 2495, 2496, 2010)); // 486 ≤ offset ≤ 495, delay 9
    clock.add(e(3000, 3502, 3503, 3040)); // 463 ≤ offset ≤ 502, delay 39
    expect(clock.estimate()).toEqual({ offset: 490.5, error: 4.5, samples: 3 });
    // A fast request inside a slow exchange tightens the upper bound: 486 ≤ offset ≤ 491.
    clock.add(e(4000, 4491, 4492, 4030));
    expect(clock.estimate()).toEqual({ offset: 488.5, error: 2.5, samples: 4 });
  });

  it('falls back to the NTP estimate of the fastest exchange when a clock was stepped', () => {
    const clock = new ClockWindow();
    clock.add(e(0, 500, 501, 20)); // [481, 500], delay 19
    clock.add(e(1100, 1500, 1501, 1110)); // the client clock jumped 100 ms: [391, 400], delay 9
    // low 481 > high 400: ((1500 − 1100) + (1501 − 1110)) / 2 of the 9 ms exchange
    expect(clock.estimate()).toEqual({ offset: 395.5, error: null, samples: 2 });
  });

  it('drops exchanges with a negative delay, keeps 32, and forgets those older than 30 s', () => {
    const clock = new ClockWindow();
    expect(roundTrip(e(0, 500, 520, 10))).toBe(-10);
    clock.add(e(0, 500, 520, 10));
    expect(clock.estimate()).toBeNull();
    for (let i = 0; i < 33; i += 1) clock.add(e(i * 100, i * 100 + 50, i * 100 + 51, i * 100 + 2));
    expect(clock.size).toBe(32);
    clock.add(e(40000, 40050, 40051, 40002)); // 30 s after most of them
    expect(clock.size).toBe(1);
    clock.reset();
    expect(clock.estimate()).toBeNull();
  });

  it('reports the 90th percentile of the round trips', () => {
    const clock = new ClockWindow();
    for (let delay = 1; delay <= 10; delay += 1) clock.add(e(0, 100, 100, delay));
    expect(clock.rttP90()).toBe(9);
    expect(new ClockWindow().rttP90()).toBeNull();
  });

  it("finds the skew in the recorded exchanges: the recorder's clock ran 1234.5 ms behind the server", () => {
    const clock = new ClockWindow();
    const frames = party.frames;
    for (const [i, sent] of frames.entries()) {
      if (sent.dir !== 'send' || sent.frame.type !== 'time_sync') continue;
      const answer = frames.slice(i + 1).find((f) => f.dir === 'recv' && f.frame.id === sent.frame.id);
      if (!answer) throw new Error('an exchange without its answer');
      const t1 = sent.frame.client_sent as number;
      const t4 = answer.client_ms; // the recorder's clock once the answer had arrived
      clock.add({
        t1,
        t2: answer.frame.server_received as number,
        t3: answer.frame.server_sent as number,
        t4,
      });
    }
    const estimate = clock.estimate();
    expect(estimate?.samples).toBe(4);
    expect(estimate?.error).not.toBeNull();
    const error = estimate?.error ?? Infinity;
    expect(error).toBeLessThan(20);
    expect(Math.abs((estimate?.offset ?? 0) - 1234.5)).toBeLessThanOrEqual(error + 0.1);
  });
});

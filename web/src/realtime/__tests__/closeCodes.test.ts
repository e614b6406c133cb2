import { describe, expect, it } from 'vitest';

import { backoffDelay } from '../backoff';
import { closeAction, describeClose } from '../closeCodes';

describe('close codes (docs/protocol.md, Close codes)', () => {
  it('reconnects for the reconnect ranges and the transport codes that mean the network', () => {
    for (const code of [1000, 1001, 1006, 1011, 1012, 3000, 3499, 4004, 4008, 4010, 4013, 4014, 4499]) {
      expect(closeAction(code)).toEqual({ kind: 'reconnect', immediate: false, newToken: false });
    }
    expect(closeAction(4001)).toEqual({ kind: 'reconnect', immediate: true, newToken: false });
    expect(closeAction(4005)).toEqual({ kind: 'reconnect', immediate: false, newToken: true });
  });

  it('stops for terminal ranges and transport codes that mean a broken client', () => {
    for (const code of [1002, 1007, 1009, 3500, 3999, 4500, 4501, 4502, 4509, 4999]) {
      expect(closeAction(code)).toEqual({ kind: 'terminal' });
    }
  });

  it("takes the server's disconnect.reconnect over the number, and a close it started as done", () => {
    expect(closeAction(4010, false)).toEqual({ kind: 'terminal' });
    expect(closeAction(4500, true)).toMatchObject({ kind: 'reconnect' });
    expect(closeAction(1006, undefined, true)).toEqual({ kind: 'done' });
  });

  it('has words for a person', () => {
    expect(describeClose(4500)).toBe('the sign-in was refused; sign in again');
    expect(describeClose(4777)).toBe('the server refused the connection');
    expect(describeClose(4444)).toBe('the connection closed');
  });
});

describe('backoff', () => {
  it('doubles from 1 s to 30 s with a factor between 0.5 and 1.5', () => {
    expect([0, 1, 2, 3, 4, 5, 6].map((attempt) => backoffDelay(attempt, () => 0))).toEqual([
      500, 1000, 2000, 4000, 8000, 15000, 15000,
    ]);
    expect(backoffDelay(0, () => 0.5)).toBe(1000);
    expect(backoffDelay(10, () => 0.999999)).toBeCloseTo(45000, 0);
    expect(backoffDelay(3, () => 0.9, undefined, true)).toBeCloseTo(225, 9);
  });
});

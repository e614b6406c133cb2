import { describe, expect, it } from 'vitest';
import { formatPosition, formatWhen } from './time';

describe('formatPosition', () => {
  it('shows minutes and zero-padded seconds', () => {
    expect(formatPosition(0)).toBe('0:00');
    expect(formatPosition(75.9)).toBe('1:15');
  });
  it('adds hours past an hour and never goes negative', () => {
    expect(formatPosition(3725)).toBe('1:02:05');
    expect(formatPosition(-3)).toBe('0:00');
  });
});

describe('formatWhen', () => {
  const now = Date.parse('2026-12-07T12:00:00Z');
  it('says just now, minutes and hours', () => {
    expect(formatWhen('2026-12-07T11:59:50Z', now)).toBe('just now');
    expect(formatWhen('2026-12-07T11:50:00Z', now)).toBe('10 min ago');
    expect(formatWhen('2026-12-07T09:00:00Z', now)).toBe('3 h ago');
  });
  it('gives nothing for a timestamp it cannot read', () => {
    expect(formatWhen('not a date', now)).toBe('');
  });
});

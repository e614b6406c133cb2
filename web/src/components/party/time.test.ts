import { describe, expect, it } from 'vitest';
import { formatPosition, parsePosition } from './time';

describe('formatPosition', () => {
  it('writes m:ss, and h:mm:ss past an hour', () => {
    expect(formatPosition(0)).toBe('0:00');
    expect(formatPosition(65.9)).toBe('1:05');
    expect(formatPosition(3723)).toBe('1:02:03');
    expect(formatPosition(-3)).toBe('0:00');
  });
});

describe('parsePosition', () => {
  it('reads seconds, m:ss and h:mm:ss', () => {
    expect(parsePosition('15')).toBe(15);
    expect(parsePosition('1:05')).toBe(65);
    expect(parsePosition(' 1:02:03 ')).toBe(3723);
    expect(parsePosition('0:07.5')).toBe(7.5);
  });
  it('refuses what is not a position', () => {
    for (const text of ['', 'abc', '1:', '-5', '1:2:3:4', '1::2']) expect(parsePosition(text)).toBeNull();
  });
});

import { describe, expect, it } from 'vitest';
import { duration, videoIdFrom } from './videoId';

describe('videoIdFrom', () => {
  it('finds the id in a pasted link or alone', () => {
    const id = '00000000-0000-4000-8000-00000000D003';
    expect(videoIdFrom(`https://tv.example/watch/${id}?t=3`)).toBe(id.toLowerCase());
    expect(videoIdFrom(` ${id} `)).toBe(id.toLowerCase());
  });
  it('gives null for anything else', () => {
    expect(videoIdFrom('the final')).toBeNull();
    expect(videoIdFrom('')).toBeNull();
  });
});

describe('duration', () => {
  it('uses the largest whole unit', () => {
    expect(duration(1)).toBe('1 second');
    expect(duration(90)).toBe('90 seconds');
    expect(duration(600)).toBe('10 minutes');
    expect(duration(7200)).toBe('2 hours');
    expect(duration(86400)).toBe('1 day');
  });
});

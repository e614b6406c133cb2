import { describe, expect, it } from 'vitest';
import { safeNext } from './next';

describe('safeNext', () => {
  it('keeps a path on this site', () => {
    expect(safeNext('/friends')).toBe('/friends');
    expect(safeNext('/people/ada?x=1')).toBe('/people/ada?x=1');
  });
  it('sends anything else home', () => {
    expect(safeNext(null)).toBe('/');
    expect(safeNext('https://evil.example/')).toBe('/');
    expect(safeNext('//evil.example/')).toBe('/');
    expect(safeNext('/\\evil.example')).toBe('/');
  });
});

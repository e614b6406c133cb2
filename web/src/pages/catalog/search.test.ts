import { describe, expect, it } from 'vitest';
import type { Schemas } from '../../api/client';
import { matches, words } from './search';

const video: Schemas['Video'] = {
  id: 'v1',
  owner: { id: 'u1', handle: 'ada' },
  title: 'The Final Match',
  description: 'Extra time and penalties',
  visibility: 'public',
  status: 'ready',
  duration_seconds: 20,
  created_at: '2026-12-07T12:00:00Z',
  updated_at: '2026-12-07T12:00:00Z',
};

describe('catalog search', () => {
  it('splits a query into lower-case words', () => {
    expect(words('  Final   MATCH ')).toEqual(['final', 'match']);
  });
  it('matches every word in title, description or owner, in any case', () => {
    expect(matches(video, 'final penalties')).toBe(true);
    expect(matches(video, '@ADA')).toBe(true);
    expect(matches(video, 'final cooking')).toBe(false);
  });
  it('matches everything with an empty query', () => {
    expect(matches(video, '   ')).toBe(true);
  });
});

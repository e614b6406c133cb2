import { describe, expect, it } from 'vitest';
import { routes } from './routes';

// First path segments the server answers itself (see app/web_client.py): a page there would
// show the API's JSON after a reload.
const API = [
  'accounts',
  'auth',
  'me',
  'users',
  'videos',
  'comments',
  'parties',
  'moderation',
  'media',
  'search',
  'avatars',
];
const RESERVED = new Set([...API, 'health', 'schema', 'ws', 'assets']);

describe('routes', () => {
  it('never use a path the API answers', () => {
    const paths = routes.flatMap((route) => (route.children ?? []).map((child) => child.path ?? ''));
    expect(paths.length).toBeGreaterThan(5);
    for (const path of paths) expect(RESERVED.has(path.split('/')[0] ?? '')).toBe(false);
  });
});

import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { MemoryRouter } from 'react-router-dom';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Schemas } from '../../api/client';
import { PROFILE_PAGE_SIZE, ProfileVideos } from './ProfileVideos';

type Video = Schemas['Video'];

function video(n: number, handle = 'ada'): Video {
  return {
    id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    owner: { id: '00000000-0000-4000-8000-aaaaaaaaaaaa', handle },
    title: `Video ${n}`,
    description: '',
    visibility: 'public',
    status: 'ready',
    duration_seconds: 61,
    created_at: '2026-12-01T10:00:00Z',
    updated_at: '2026-12-01T10:00:00Z',
    failure_reason: null,
  };
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

/** Answers queued per call, each request's URL kept; a `null` answer stays pending (loading). */
function server(...answers: (Response | null)[]) {
  const asked: URL[] = [];
  const fetcher = vi.fn((input: RequestInfo | URL) => {
    asked.push(new URL(String(input), 'http://localhost'));
    const answer = answers.shift();
    if (answer === undefined) throw new Error(`unexpected request ${String(input)}`);
    return answer === null ? new Promise<Response>(() => undefined) : Promise.resolve(answer);
  });
  vi.stubGlobal('fetch', fetcher);
  return asked;
}

function show(handle = 'ada') {
  render(
    <MemoryRouter future={{ v7_startTransition: true, v7_relativeSplatPath: true }}>
      <ProfileVideos handle={handle} />
    </MemoryRouter>,
  );
}

const titles = () =>
  within(screen.getByRole('list', { name: /Videos by/ }))
    .getAllByRole('heading')
    .map((heading) => heading.textContent);

beforeEach(() => {
  // VideoCard asks for its poster once near the screen; jsdom has no layout, so never.
  vi.stubGlobal(
    'IntersectionObserver',
    class {
      observe() {}
      disconnect() {}
    },
  );
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('ProfileVideos', () => {
  it('lists the first page as cards and adds the next one with "Show more videos"', async () => {
    const asked = server(
      json(200, { items: [video(3), video(2)], next_cursor: 'after-2' }),
      json(200, { items: [video(1)], next_cursor: null }),
    );
    show();
    expect(await screen.findByRole('list', { name: 'Videos by @ada' })).toBeTruthy();
    expect(titles()).toEqual(['Video 3', 'Video 2']);
    expect(asked[0]?.pathname).toBe('/users/ada/videos');
    expect(asked[0]?.searchParams.get('limit')).toBe(String(PROFILE_PAGE_SIZE));
    expect(asked[0]?.searchParams.has('cursor')).toBe(false);
    expect(screen.getAllByRole('link')[0]?.getAttribute('href')).toBe(`/watch/${video(3).id}`);

    fireEvent.click(screen.getByRole('button', { name: 'Show more videos' }));
    expect(await screen.findByRole('heading', { name: 'Video 1' })).toBeTruthy();
    expect(titles()).toEqual(['Video 3', 'Video 2', 'Video 1']);
    expect(asked[1]?.searchParams.get('cursor')).toBe('after-2');
    expect(screen.queryByRole('button', { name: 'Show more videos' })).toBeNull(); // the last page
  });

  it('says so when the person has no public videos', async () => {
    server(json(200, { items: [], next_cursor: null }));
    show();
    expect(await screen.findByText('No public videos yet.')).toBeTruthy();
    expect(screen.queryByRole('list', { name: /Videos by/ })).toBeNull();
    expect(screen.queryByRole('button')).toBeNull();
  });

  it('shows that it is loading until the first page comes', () => {
    server(null);
    show();
    expect(screen.getByRole('status').textContent).toBe('Loading videos…');
    expect(screen.queryByText('No public videos yet.')).toBeNull();
  });

  it('shows a failed first page as an error with a retry that loads it again', async () => {
    server(
      json(503, { error: 'database_unavailable', message: 'the database is away' }),
      json(200, { items: [video(7)], next_cursor: null }),
    );
    show();
    expect((await screen.findByRole('alert')).textContent).toContain('Try again shortly');
    expect(screen.queryByText('No public videos yet.')).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Try again' }));
    expect(await screen.findByRole('heading', { name: 'Video 7' })).toBeTruthy();
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('keeps the cards shown when a later page fails, and offers that page again', async () => {
    const asked = server(
      json(200, { items: [video(2)], next_cursor: 'after-2' }),
      json(400, { error: 'invalid_cursor', message: 'the cursor is not valid; start again without it' }),
      json(200, { items: [video(1)], next_cursor: null }),
    );
    show();
    fireEvent.click(await screen.findByRole('button', { name: 'Show more videos' }));
    expect(await screen.findByRole('alert')).toBeTruthy();
    expect(titles()).toEqual(['Video 2']);
    expect(screen.queryByRole('button', { name: 'Try again' })).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Show more videos' }));
    expect(await screen.findByRole('heading', { name: 'Video 1' })).toBeTruthy();
    expect(asked[2]?.searchParams.get('cursor')).toBe('after-2');
  });

  it('puts the handle into the path safely', async () => {
    const asked = server(json(200, { items: [], next_cursor: null }));
    show('a/b?c');
    await screen.findByText('No public videos yet.');
    expect(asked[0]?.pathname).toBe('/users/a%2Fb%3Fc/videos');
  });
});

/** Videos for the video and upload specs: a demo video that plays, or a fresh one without media. */
import { expect, type APIRequestContext } from '@playwright/test';
import type { TestUser } from './users';

export interface VideoRow {
  id: string;
  title: string;
  status: string;
  duration_seconds: number | null;
}

/** A demo video (made by `mydrtv dev` on its first start) once its transcode is ready. */
export async function readyDemoVideo(request: APIRequestContext): Promise<VideoRow> {
  let found: VideoRow | undefined;
  await expect
    .poll(
      async () => {
        const response = await request.get('/videos?limit=100');
        const page = (await response.json()) as { items: VideoRow[] };
        found = page.items.find((v) => v.id.startsWith('00000000-0000-4000-8000') && v.status === 'ready');
        return found !== undefined;
      },
      { timeout: 180_000, message: 'a demo video becomes ready' },
    )
    .toBe(true);
  return found as VideoRow;
}

/** A new unlisted video (kept out of the catalog) of `owner`'s, without media: comments and ratings start from nothing. */
export async function freshVideo(
  request: APIRequestContext,
  owner: TestUser,
  title: string,
): Promise<VideoRow> {
  const response = await request.post('/videos', {
    data: { title, description: 'Made by an end-to-end test.', visibility: 'unlisted' },
    headers: { authorization: `Bearer ${owner.accessToken}` },
  });
  expect(response.status(), await response.text()).toBe(201);
  return (await response.json()) as VideoRow;
}

/** Wait until search finds the demo video `title` (search offers only playable videos). */
export async function searchableDemo(request: APIRequestContext, word: string, title: string): Promise<void> {
  await expect
    .poll(
      async () => {
        const response = await request.get(`/search/videos?q=${encodeURIComponent(word)}`);
        const page = (await response.json()) as { items: { title: string }[] };
        return page.items.some((video) => video.title === title);
      },
      { timeout: 180_000, message: `the demo video "${title}" becomes searchable` },
    )
    .toBe(true);
}

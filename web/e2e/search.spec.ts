import { expect, test, type APIRequestContext } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { expectAccessible } from './support/axe';
import { screenshot } from './support/screenshots';
import { newUser, signUpViaApi } from './support/users';
import { searchableDemo } from './support/videos';

const COUNTDOWN = 'Test pattern: countdown'; // a demo video, public once its transcode is ready

const countdownSearchable = (request: APIRequestContext) => searchableDemo(request, 'countdown', COUNTDOWN);

test('a typo finds the video, the start of a handle finds the person, and nothing found is said', async ({
  page,
  request,
}) => {
  await countdownSearchable(request);
  const person = await signUpViaApi(request, newUser('seeker'));

  await page.goto('/');
  const search = page.getByLabel('Search videos and people');
  await search.fill('countdwn'); // a letter dropped
  const videos = page.getByRole('list', { name: 'Videos found' });
  await expect(videos.getByRole('link', { name: new RegExp(COUNTDOWN) })).toBeVisible();
  expect(new URL(page.url()).searchParams.get('q')).toBe('countdwn');
  await expectAccessible(page);
  await screenshot(page, 'search-videos');

  const prefix = person.handle.slice(0, person.handle.length - 3);
  await search.fill(prefix);
  const people = page.getByRole('list', { name: 'People found' });
  const link = people.getByRole('link', { name: new RegExp(`@${person.handle}`) });
  await expect(link).toBeVisible();
  await expect(link).toContainText('0 followers');
  await expectAccessible(page);
  await screenshot(page, 'search-people');
  await link.click();
  await expect(page).toHaveURL(new RegExp(`/people/${person.handle}$`));
  await expect(page.getByRole('heading', { level: 1, name: `@${person.handle}` })).toBeVisible();

  await page.goto(`/?q=${encodeURIComponent(`zq${randomBytes(4).toString('hex')}xv`)}`);
  await expect(page.getByText(/No videos match/)).toBeVisible();
  await expect(page.getByText(/No one’s handle or name matches/)).toBeVisible();
  await expectAccessible(page);
  await screenshot(page, 'search-empty');
});

test('"Show more people" brings the next page of people, none twice', async ({ page, request }) => {
  const family = `seek${randomBytes(3).toString('hex')}`;
  const made = [];
  for (let n = 0; n < 7; n += 1) made.push(await signUpViaApi(request, newUser(family)));
  await page.goto(`/?q=${family}`);
  const people = page.getByRole('list', { name: 'People found' });
  await expect(people.getByRole('listitem')).toHaveCount(6); // a page of people
  await page.getByRole('button', { name: 'Show more people' }).click();
  await expect(people.getByRole('listitem')).toHaveCount(7);
  for (const person of made) {
    await expect(people.getByRole('link', { name: new RegExp(`@${person.handle}`) })).toBeVisible();
  }
  await expect(page.getByRole('button', { name: 'Show more people' })).toHaveCount(0);
});

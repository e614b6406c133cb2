import { expect, test, type Page } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { expectAccessible } from './support/axe';
import { screenshot } from './support/screenshots';
import { newUser, signInViaStorage, signUpViaApi, signUpViaUi } from './support/users';
import { freshVideo, readyDemoVideo, searchableDemo } from './support/videos';

const tag = () => randomBytes(3).toString('hex');

async function openVideo(page: Page, id: string): Promise<void> {
  await page.goto(`/watch/${id}`);
  // Live: the video channel is subscribed, so what others do from now on arrives.
  await expect(page.getByRole('heading', { name: /Comments/ })).toContainText('live');
}

/** A star as a person clicks it: the visible star of its label. */
function starOf(page: Page, name: string) {
  return page.locator('label').filter({ hasText: name });
}

function comments(page: Page) {
  return page.getByRole('list', { name: 'Comments' });
}

test('the catalog lists the videos and the search narrows them', async ({ page, request }) => {
  const demo = await readyDemoVideo(request);
  const scripts: string[] = [];
  page.on('request', (r) => {
    if (r.resourceType() === 'script') scripts.push(new URL(r.url()).pathname);
  });
  await page.goto('/');
  const list = page.getByRole('list', { name: 'Videos' });
  await expect(list.getByRole('link', { name: new RegExp(demo.title) })).toBeVisible();
  // The demo videos' posters load as their cards come into view.
  const demoCards = list.getByRole('listitem').filter({ hasText: '@mydrtv_demo' });
  await expect(demoCards).toHaveCount(3);
  for (const card of await demoCards.all()) {
    await card.scrollIntoViewIfNeeded();
    const poster = card.locator('img');
    await expect(poster).toHaveCount(1);
    await expect
      .poll(() => poster.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0))
      .toBe(true);
  }
  await expectAccessible(page);
  await screenshot(page, 'catalog');

  await searchableDemo(request, 'countdown', 'Test pattern: countdown');
  await page.getByLabel('Search videos and people').fill('countdown');
  const found = page.getByRole('list', { name: 'Videos found' });
  await expect(found.getByRole('link')).toHaveCount(1);
  await expect(found.getByRole('link', { name: /countdown/i })).toBeVisible();
  expect(new URL(page.url()).searchParams.get('q')).toBe('countdown');

  await page.getByLabel('Search videos and people').fill(`nothing like this ${tag()}`);
  await expect(page.getByText(/No videos match/)).toBeVisible();
  await expectAccessible(page);
  await screenshot(page, 'catalog-search-empty', { phone: false });

  expect(scripts.filter((path) => path.includes('/hls'))).toEqual([]); // no player here, no hls.js

  await page.getByLabel('Search videos and people').fill('');
  await list.getByRole('link', { name: new RegExp(demo.title) }).click();
  await expect(page).toHaveURL(new RegExp(`/watch/${demo.id}$`));
  await expect(page.getByRole('heading', { level: 1, name: demo.title })).toBeVisible();
});

test('comments, replies, edits, deletions and ratings reach a second viewer live', async ({
  browser,
  page,
  request,
}) => {
  // Ada signs up on the page; Bob is another person in another browser.
  const ada = await signUpViaUi(page, newUser('ada'));
  const adaApi = await signUpViaApi(request, newUser('owner'));
  const video = await freshVideo(request, adaApi, `Live comments ${tag()}`);
  const bobContext = await browser.newContext();
  const bobPage = await bobContext.newPage();
  const bob = await signUpViaApi(request, newUser('bob'));
  await signInViaStorage(bobPage, request, bob);

  await openVideo(page, video.id);
  await openVideo(bobPage, video.id);
  await expect(bobPage.getByText('No comments yet.')).toBeVisible();
  await expect(bobPage.getByTestId('rating-summary')).toHaveText('No ratings yet');

  // Ada comments: Bob sees it without reloading.
  const first = `First! ${tag()}`;
  await page.getByLabel('Add a comment').fill(first);
  await page.getByRole('button', { name: 'Comment', exact: true }).click();
  const posted = comments(page).getByRole('listitem').filter({ hasText: first });
  await expect(posted).toBeVisible();
  const testId = await posted.getAttribute('data-testid');
  expect(testId).toMatch(/^comment-\d+$/);
  const adaComment = page.getByTestId(testId as string);
  await expect(bobPage.getByTestId(testId as string)).toContainText(first);
  await expect(bobPage.getByTestId(testId as string)).toContainText(`@${ada.handle}`);

  // Bob replies: Ada sees the reply in the thread.
  const answer = `Welcome ${tag()}`;
  const bobComment = bobPage.getByTestId(testId as string);
  await bobComment.getByRole('button', { name: 'Reply' }).click();
  await bobComment.getByLabel(`Reply to @${ada.handle}`).fill(answer);
  await bobComment.getByRole('button', { name: 'Send reply' }).click();
  const thread = page.getByRole('list', { name: `Replies to @${ada.handle}` });
  await expect(thread.getByText(answer)).toBeVisible();

  // Ada edits her comment: Bob sees the new text.
  const edited = `First, edited ${tag()}`;
  await adaComment.getByRole('button', { name: 'Edit' }).first().click();
  await adaComment.getByLabel('Edit your comment').fill(edited);
  await adaComment.getByRole('button', { name: 'Save' }).click();
  await expect(bobPage.getByTestId(testId as string)).toContainText(edited);
  await expect(bobPage.getByTestId(testId as string)).toContainText('(edited)');

  // Ratings: each sees the other's stars in the live average.
  await starOf(page, '4 stars').click();
  await expect(bobPage.getByTestId('rating-summary')).toHaveText('4.0 out of 5 from 1 rating');
  await starOf(bobPage, '2 stars').click();
  await expect(page.getByTestId('rating-summary')).toHaveText('3.0 out of 5 from 2 ratings');

  // Bob reports Ada's comment; the report is taken.
  await bobComment.getByRole('button', { name: 'Report' }).first().click();
  await bobComment.getByLabel('Why should a moderator look at this?').fill('testing the report form');
  await bobComment.getByRole('button', { name: 'Send report' }).click();
  await expect(bobComment.getByText('Thank you: a moderator will look at it.')).toBeVisible();

  await expectAccessible(page);
  await screenshot(page, 'video-comments');

  // Ada deletes her comment: it leaves Bob's page with its thread.
  await adaComment.getByRole('button', { name: 'Delete' }).first().click();
  await expect(bobPage.getByTestId(testId as string)).toHaveCount(0);
  await expect(bobPage.getByText(answer)).toHaveCount(0);
  await expect(bobPage.getByText('No comments yet.')).toBeVisible();

  // A reload shows the same state from REST.
  await bobPage.reload();
  await expect(bobPage.getByTestId('rating-summary')).toHaveText('3.0 out of 5 from 2 ratings');
  await expect(bobPage.getByText('No comments yet.')).toBeVisible();
  await bobContext.close();
});

test('the video plays; comments and reactions are anchored to their moment', async ({ page, request }) => {
  const demo = await readyDemoVideo(request);
  await signInViaStorage(page, request, await signUpViaApi(request, newUser('viewer')));
  const hlsLoaded = page.waitForRequest((r) => /\/assets\/hls[^/]*\.js$/.test(new URL(r.url()).pathname));
  await openVideo(page, demo.id);
  await hlsLoaded; // the player's library, fetched when the page plays

  const video = page.locator('video');
  await expect(video).toBeVisible();
  await video.evaluate((element: HTMLVideoElement) => {
    element.muted = true;
    return element.play();
  });
  await expect
    .poll(() => video.evaluate((element: HTMLVideoElement) => element.currentTime))
    .toBeGreaterThan(1);
  await video.evaluate((element: HTMLVideoElement) => element.pause());

  // Written at the moment playback is at: a mark on the bar, and shown when playback reaches it.
  const text = `At this very moment ${tag()}`;
  await page.getByLabel('Add a comment').fill(text);
  await expect(page.getByRole('checkbox', { name: /in the video$/ })).toBeChecked();
  await page.getByRole('button', { name: 'Comment', exact: true }).click();
  const item = comments(page).getByRole('listitem').filter({ hasText: text });
  await expect(item).toBeVisible();
  const id = ((await item.getAttribute('data-testid')) ?? '').replace('comment-', '');
  const mark = page.locator(`[data-comment-ids~="${id}"]`);
  await expect(mark).toBeVisible();
  await expect(page.getByTestId('now-showing')).toContainText(text);

  await page.getByRole('button', { name: /^React 👍/ }).click();
  await expect(page.getByTestId('now-showing')).toContainText('👍');

  // Seeking away hides it; its mark brings playback back to it.
  await video.evaluate((element: HTMLVideoElement) => {
    element.currentTime = 20;
  });
  await expect(page.getByTestId('now-showing')).not.toContainText(text);
  await mark.click();
  await expect(page.getByTestId('now-showing')).toContainText(text);

  await expectAccessible(page);
  await screenshot(page, 'video');
});

test('a video that does not exist is explained', async ({ page }) => {
  await page.goto('/watch/00000000-0000-4000-8000-0000000000ff');
  await expect(page.getByRole('alert')).toHaveText(
    'This video could not be found. It may be private or deleted.',
  );
  await expectAccessible(page);
});

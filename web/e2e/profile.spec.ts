import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type APIRequestContext, type Page } from '@playwright/test';
import { expectAccessible } from './support/axe';
import { makeClip } from './support/clip';
import { screenshot } from './support/screenshots';
import { newUser, signInViaStorage, signUpViaApi, type TestUser } from './support/users';

/** A real PNG picture, drawn by the browser itself (no image files kept in the repository). */
async function drawnPng(page: Page): Promise<Buffer> {
  const dataUrl = await page.evaluate(() => {
    const canvas = document.createElement('canvas');
    canvas.width = 320;
    canvas.height = 240;
    const context = canvas.getContext('2d')!;
    context.fillStyle = '#4338ca';
    context.fillRect(0, 0, 320, 240);
    context.fillStyle = '#fbbf24';
    context.beginPath();
    context.arc(160, 120, 80, 0, Math.PI * 2);
    context.fill();
    return canvas.toDataURL('image/png');
  });
  return Buffer.from(dataUrl.split(',')[1]!, 'base64');
}

/** Letters only, so a search for the name finds this person and nobody from another run. */
const letters = () => Array.from(randomBytes(6), (byte) => String.fromCharCode(97 + (byte % 26))).join('');

test('edit your profile, refused input said next to its field, then see it on your public page and in search', async ({
  page,
  request,
}) => {
  const me = await signUpViaApi(request, newUser('prof'));
  const name = `Ana ${letters()}`;
  await signInViaStorage(page, request, me);
  await page.goto('/profile');
  const section = page.getByRole('region', { name: 'Your public profile' });
  const displayName = section.getByLabel('Display name');
  const bio = section.getByLabel('Bio');
  const save = section.getByRole('button', { name: 'Save profile' });

  // A bidi override would let a name pass for another one: the server refuses it, the page says why.
  await displayName.fill('Ana \u202Eevil');
  await save.click();
  await expect(displayName).toHaveAttribute('aria-invalid', 'true');
  await expect(displayName).toHaveAccessibleDescription(/character that is not allowed \(U\+202E\)/);
  await displayName.fill('x'.repeat(51));
  await save.click();
  await expect(displayName).toHaveAccessibleDescription(/too long: at most 50 characters/);
  await bio.fill('b'.repeat(501));
  await displayName.fill(name);
  await save.click();
  await expect(bio).toHaveAccessibleDescription(/bio is too long: at most 500 characters/);
  await expect(displayName).not.toHaveAttribute('aria-invalid', 'true');
  await screenshot(page, 'profile-editor-refused');

  await bio.fill('Films about trains.\nAnd cats.');
  await save.click();
  await expect(section.getByRole('status').filter({ hasText: 'Saved.' })).toBeVisible();

  // An avatar that is not a picture is refused in words; a picture is previewed, then kept.
  const picture = section.getByLabel('Avatar picture');
  await picture.setInputFiles({
    name: 'notes.txt',
    mimeType: 'text/plain',
    buffer: Buffer.from('not a picture'),
  });
  await section.getByRole('button', { name: 'Upload avatar' }).click();
  await expect(section.getByRole('alert')).toHaveText(/not a picture/);
  await picture.setInputFiles({ name: 'me.png', mimeType: 'image/png', buffer: await drawnPng(page) });
  await expect(section.getByRole('img', { name: 'Preview of the chosen picture' })).toBeVisible();
  await section.getByRole('button', { name: 'Upload avatar' }).click();
  await expect(section.getByRole('status').filter({ hasText: 'Your new avatar is saved.' })).toBeVisible();
  const mine = section.getByRole('img', { name: 'Your avatar' });
  await expect(mine).toHaveAttribute('src', /^\/avatars\/.+\.webp$/);
  await expect.poll(() => mine.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(0);
  await expectAccessible(page);
  await screenshot(page, 'profile-editor');

  // The public page, as anyone sees it.
  await page.goto(`/people/${me.handle}`);
  await expect(page.getByRole('heading', { level: 1, name })).toBeVisible();
  await expect(page.getByRole('main').getByText(`@${me.handle}`, { exact: true })).toBeVisible();
  await expect(page.getByTestId('profile-bio')).toHaveText('Films about trains.\nAnd cats.');
  const avatar = page.locator('header img');
  await expect(avatar).toHaveAttribute('src', /^\/avatars\/.+\/256\.webp$/);
  // Loaded, and at the size that fills 96 CSS pixels sharply.
  await expect
    .poll(() => avatar.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0))
    .toBe(true);
  await expect.poll(() => avatar.evaluate((img: HTMLImageElement) => img.currentSrc)).toMatch(/\/256\.webp$/);
  const counts = page.getByRole('list', { name: 'Counts' });
  await expect(counts).toContainText('0 followers');
  await expect(counts).toContainText('0 public videos');
  await expect(page.getByText('This is you.')).toBeVisible();
  await expectAccessible(page);
  await screenshot(page, 'profile-public');

  // Search finds the person by display name, showing the name and the avatar.
  await page.goto(`/?q=${encodeURIComponent(name)}`);
  const found = page
    .getByRole('list', { name: 'People found' })
    .getByRole('link', { name: new RegExp(name) });
  await expect(found).toContainText(`@${me.handle}`);
  await expect(found.locator('img')).toHaveAttribute('src', /^\/avatars\/.+\/64\.webp$/);
  await expectAccessible(page);
  await screenshot(page, 'search-people-named');
  await found.click();
  await expect(page.getByRole('heading', { level: 1, name })).toBeVisible();

  // Removing the avatar leaves the initial; clearing the name shows the handle again.
  await page.goto('/profile');
  await section.getByRole('button', { name: 'Remove avatar' }).click();
  await expect(section.getByRole('img', { name: 'No avatar yet' })).toHaveText('A');
  await displayName.fill('');
  await save.click();
  await expect(section.getByRole('status').filter({ hasText: 'Saved.' })).toBeVisible();
  await page.goto(`/people/${me.handle}`);
  await expect(page.getByRole('heading', { level: 1, name: `@${me.handle}` })).toBeVisible();
  await expect(page.locator('header img')).toHaveCount(0);
});

test('a profile that does not exist says so', async ({ page }) => {
  await page.goto(`/people/nobody_${randomBytes(4).toString('hex')}`);
  await expect(page.getByRole('alert')).toHaveText('This person could not be found.');
  await expectAccessible(page);
});

/** A new video of `owner`'s, without media yet; its id. */
async function newVideo(
  request: APIRequestContext,
  owner: TestUser,
  title: string,
  visibility: 'public' | 'unlisted' | 'private',
): Promise<string> {
  const response = await request.post('/videos', {
    data: { title, description: 'Made by the profile spec.', visibility },
    headers: { authorization: `Bearer ${owner.accessToken}` },
  });
  expect(response.status(), await response.text()).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

test("a person's public videos are on their profile as catalog cards, and open to watch", async ({
  page,
  request,
}) => {
  test.setTimeout(240_000); // a real upload is transcoded before it is listed
  const owner = await signUpViaApi(request, newUser('vids'));
  const auth = { authorization: `Bearer ${owner.accessToken}` };
  const title = `Trains ${letters()}`;
  const shown = await newVideo(request, owner, title, 'public');
  const others = [
    await newVideo(request, owner, `Unlisted ${letters()}`, 'unlisted'),
    await newVideo(request, owner, `Private ${letters()}`, 'private'),
  ];
  try {
    // Its media not ready yet, the public video is not offered: the page says there is none.
    await page.goto(`/people/${owner.handle}`);
    const videos = page.getByRole('region', { name: 'Videos' });
    await expect(videos.getByText('No public videos yet.')).toBeVisible();
    await expect(page.getByRole('list', { name: 'Counts' })).toContainText('0 public videos');
    await expectAccessible(page);
    await screenshot(page, 'profile-videos-empty');

    const workDir = await mkdtemp(join(tmpdir(), 'mydrtv-profile-'));
    try {
      const clip = await makeClip(join(workDir, 'trains.mp4'));
      const upload = await request.put(`/videos/${shown}/media`, {
        data: await readFile(clip),
        headers: { ...auth, 'content-type': 'video/mp4' },
      });
      expect(upload.status(), await upload.text()).toBe(202);
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
    await expect
      .poll(
        async () => ((await (await request.get(`/videos/${shown}`)).json()) as { status: string }).status,
        {
          timeout: 180_000,
          message: 'the upload is transcoded',
        },
      )
      .toBe('ready');

    // Someone else, signed in, sees the one public video and nothing of the others.
    await signInViaStorage(page, request, await signUpViaApi(request, newUser('visitor')));
    await page.goto(`/people/${owner.handle}`);
    const list = page.getByRole('list', { name: `Videos by @${owner.handle}` });
    await expect(list.getByRole('listitem')).toHaveCount(1);
    await expect(list.getByRole('heading', { name: title })).toBeVisible();
    await expect(page.getByRole('list', { name: 'Counts' })).toContainText('1 public video');
    await expect(page.getByText(/^(Unlisted|Private) /)).toHaveCount(0);
    await expect(videos.getByText('No public videos yet.')).toHaveCount(0);
    await expect(videos.getByRole('button', { name: 'Show more videos' })).toHaveCount(0); // one page
    const poster = list.locator('img');
    await expect
      .poll(() => poster.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0))
      .toBe(true);
    await expectAccessible(page);
    await screenshot(page, 'profile-videos');

    await list.getByRole('link', { name: new RegExp(title) }).click();
    await expect(page).toHaveURL(new RegExp(`/watch/${shown}$`));
    await expect(page.getByRole('heading', { level: 1, name: title })).toBeVisible();
  } finally {
    // Keep the catalog to what other specs expect: this run's public upload goes again.
    for (const id of [shown, ...others]) await request.delete(`/videos/${id}`, { headers: auth });
  }
});

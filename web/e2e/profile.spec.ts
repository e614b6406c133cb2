import { randomBytes } from 'node:crypto';
import { expect, test, type Page } from '@playwright/test';
import { expectAccessible } from './support/axe';
import { screenshot } from './support/screenshots';
import { newUser, signInViaStorage, signUpViaApi } from './support/users';

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

import { expect, test } from '@playwright/test';
import { expectAccessible } from './support/axe';
import { screenshot } from './support/screenshots';
import { createStaff } from './support/staff';
import { newUser, signInViaUi, signUpViaUi } from './support/users';

test('the home page loads from the server, with its navigation', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByRole('navigation', { name: 'Main' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Sign up' })).toBeVisible();
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  await expectAccessible(page);
  await screenshot(page, 'home');
});

test('a deep link survives a reload (the server answers it with the page)', async ({ page }) => {
  await page.goto('/signin');
  await page.reload();
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await page.goto('/no/such/page');
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
  await expectAccessible(page);
  await screenshot(page, 'not-found', { phone: false });
});

test('sign up, sign out, sign in again', async ({ page }) => {
  await page.goto('/signup');
  await expectAccessible(page);
  await screenshot(page, 'signup');

  const user = await signUpViaUi(page, newUser());
  await expect(page.getByRole('link', { name: `@${user.handle}` })).toBeVisible();
  await screenshot(page, 'home-signed-in');

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('link', { name: 'Sign in' })).toBeVisible();
  expect(await page.evaluate(() => localStorage.getItem('mydrtv.refresh_token'))).toBeNull();

  await page.goto('/signin');
  await expectAccessible(page);
  await screenshot(page, 'signin');
  await signInViaUi(page, user);
  // A reload keeps the session (e2e/session.spec.ts: also when it cuts a refresh short).
  await page.reload();
  await expect(page.getByRole('link', { name: `@${user.handle}` })).toBeVisible();
});

test('a wrong password is explained in words', async ({ page }) => {
  await page.goto('/signin');
  await page.getByLabel('Email').fill('nobody@example.com');
  await page.getByLabel('Password').fill('not the password at all');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toHaveText('That email and password do not match an account.');
  await expectAccessible(page);
  await screenshot(page, 'signin-error', { phone: false });
});

test('a handle that is taken is explained in words', async ({ page, request }) => {
  const first = newUser();
  const registered = await request.post('/accounts', {
    data: { email: first.email, handle: first.handle, password: first.password },
  });
  expect(registered.status()).toBe(201);
  await page.goto('/signup');
  await page.getByLabel('Email').fill(newUser().email);
  await page.getByLabel('Handle').fill(first.handle);
  await page.getByLabel('Password').fill(first.password);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await expect(page.getByRole('alert')).toHaveText('That handle is taken. Pick another one.');
});

test('a moderator made by the helpers sees the moderation link; a viewer does not', async ({
  page,
  request,
}) => {
  const moderator = await createStaff(request, 'moderator');
  await signInViaUi(page, moderator);
  await expect(page.getByRole('link', { name: 'Moderation' })).toBeVisible();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await signUpViaUi(page);
  await expect(page.getByRole('link', { name: `Friends` })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Moderation' })).toHaveCount(0);
});

/** Fresh users for a test: through the UI (what a person does) or the API (set-up only). */
import { randomBytes } from 'node:crypto';
import { expect, type APIRequestContext, type Page } from '@playwright/test';

export interface TestUser {
  email: string;
  handle: string;
  password: string;
  id?: string;
  accessToken?: string;
}

export function newUser(prefix = 'e2e'): TestUser {
  const tag = randomBytes(5).toString('hex');
  return {
    email: `${prefix}-${tag}@example.com`,
    handle: `${prefix}_${tag}`,
    password: `a long passphrase ${tag}`,
  };
}

/** Sign up on the sign-up page; ends signed in, on the home page. */
export async function signUpViaUi(page: Page, user: TestUser = newUser()): Promise<TestUser> {
  await page.goto('/signup');
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Handle').fill(user.handle);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
  return user;
}

/** Sign in on the sign-in page. */
export async function signInViaUi(page: Page, user: TestUser): Promise<void> {
  await page.goto('/signin');
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
}

/** Register and sign in through the API; the user's id and an access token come back. */
export async function signUpViaApi(
  request: APIRequestContext,
  user: TestUser = newUser(),
): Promise<TestUser> {
  const registered = await request.post('/accounts', {
    data: { email: user.email, handle: user.handle, password: user.password },
  });
  expect(registered.status(), await registered.text()).toBe(201);
  const body = (await registered.json()) as { id: string };
  return { ...user, id: body.id, ...(await tokensFor(request, user)) };
}

export async function tokensFor(
  request: APIRequestContext,
  user: TestUser,
): Promise<{ accessToken: string; refreshToken: string }> {
  const response = await request.post('/auth/token', {
    form: { grant_type: 'password', username: user.email, password: user.password },
  });
  expect(response.status(), await response.text()).toBe(200);
  const tokens = (await response.json()) as { access_token: string; refresh_token: string };
  return { accessToken: tokens.access_token, refreshToken: tokens.refresh_token };
}

/** Start a page already signed in as `user` (refresh token in localStorage, as after signing in). */
export async function signInViaStorage(
  page: Page,
  request: APIRequestContext,
  user: TestUser,
): Promise<void> {
  const { refreshToken } = await tokensFor(request, user);
  await page.addInitScript((token) => {
    if (!window.localStorage.getItem('mydrtv.refresh_token')) {
      window.localStorage.setItem('mydrtv.refresh_token', token);
    }
  }, refreshToken);
}

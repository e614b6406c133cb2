import { expect, test, type Page } from '@playwright/test';
import { signInViaStorage, signUpViaApi } from './support/users';

/**
 * Let the page's next `count` refreshes reach the server, which rotates the refresh token each
 * time, and lose their answers: what a reload does to a refresh in flight. Returns a promise per
 * lost answer, resolved with the status the server gave it.
 */
function loseRefreshes(page: Page, count: number): Promise<number>[] {
  const settle: ((status: number) => void)[] = [];
  const lost = Array.from({ length: count }, () => new Promise<number>((resolve) => settle.push(resolve)));
  let seen = 0;
  void page.route('**/auth/token', async (route) => {
    const resolve = settle[seen];
    seen += 1;
    if (resolve === undefined) return route.continue();
    const response = await route.fetch();
    await route.abort('aborted');
    resolve(response.status());
  });
  return lost;
}

test('reloads in the middle of a refresh keep the user signed in', async ({ page, request }) => {
  const user = await signUpViaApi(request);
  await signInViaStorage(page, request, user);
  const me = page.getByRole('link', { name: `@${user.handle}` });

  // Twice the server rotates the stored token and the page never sees the new one, so each next
  // load presents the spent token again. Without the server's reuse grace that ends the login.
  const [first, second] = loseRefreshes(page, 2);
  await page.goto('/');
  expect(await first).toBe(200);
  await page.reload();
  expect(await second).toBe(200);
  await page.reload();
  await expect(me).toBeVisible();

  // Quick reloads from here on need no refresh at all: the tab keeps its unexpired access token.
  const refreshes: string[] = [];
  page.on('request', (sent) => {
    if (new URL(sent.url()).pathname === '/auth/token') refreshes.push(sent.url());
  });
  for (let reload = 0; reload < 3; reload += 1) {
    await page.reload();
    await expect(me).toBeVisible();
  }
  expect(refreshes).toEqual([]);
  await page.unrouteAll({ behavior: 'ignoreErrors' });
});

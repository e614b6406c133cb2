import { expect, test, type APIRequestContext, type Page } from '@playwright/test';
import { expectAccessible } from './support/axe';
import { screenshot } from './support/screenshots';
import { newUser, signInViaStorage, signUpViaApi, type TestUser } from './support/users';
import { freshVideo } from './support/videos';

const bearer = (user: TestUser) => ({ authorization: `Bearer ${user.accessToken ?? ''}` });

/** The bell of a page, once its `user:` channel is subscribed: anything after this arrives live. */
async function liveBell(page: Page) {
  const bell = page.getByTestId('notification-bell');
  await expect(bell).toHaveAttribute('data-live', 'true');
  return bell;
}

const count = (page: Page) => page.getByTestId('notification-count');

async function follow(request: APIRequestContext, who: TestUser, whom: TestUser): Promise<void> {
  const response = await request.put(`/me/following/${whom.id ?? ''}`, { headers: bearer(who) });
  expect(response.status(), await response.text()).toBe(204);
}

test('someone follows you and replies to you: the bell counts up live in two tabs; mark all read brings both to 0', async ({
  page,
  browser,
  request,
}) => {
  const me = await signUpViaApi(request, newUser('bell'));
  const other = await signUpViaApi(request, newUser('fan'));
  const video = await freshVideo(request, me, 'A video to be replied on');
  const posted = await request.post(`/videos/${video.id}/comments`, {
    data: { body: 'What do you think?' },
    headers: bearer(me),
  });
  expect(posted.status(), await posted.text()).toBe(201);
  const comment = (await posted.json()) as { id: number };

  // Two tabs of mine, both live.
  await signInViaStorage(page, request, me);
  await page.goto('/');
  const second = await page.context().newPage();
  await second.goto('/friends');
  await liveBell(page);
  await liveBell(second);
  await expect(count(page)).toHaveAttribute('data-count', '0');

  // The other person, in a browser of their own, follows me from my profile page.
  const theirs = await browser.newContext();
  const theirPage = await theirs.newPage();
  await signInViaStorage(theirPage, request, other);
  await theirPage.goto(`/people/${me.handle}`);
  await theirPage.getByRole('button', { name: 'Follow', exact: true }).click();
  await expect(theirPage.getByRole('button', { name: 'Unfollow' })).toBeVisible();
  await expect(count(page)).toHaveAttribute('data-count', '1');
  await expect(count(second)).toHaveAttribute('data-count', '1');
  await expect(page.getByRole('link', { name: 'Notifications, 1 unread' })).toBeVisible();

  // ... and replies to my comment.
  const reply = await request.post(`/videos/${video.id}/comments`, {
    data: { body: 'I loved it', parent_id: comment.id },
    headers: bearer(other),
  });
  expect(reply.status(), await reply.text()).toBe(201);
  await expect(count(page)).toHaveAttribute('data-count', '2');
  await expect(count(second)).toHaveAttribute('data-count', '2');

  await page.getByTestId('notification-bell').click();
  await expect(page).toHaveURL(/\/notifications$/);
  const list = page.getByRole('list', { name: 'Your notifications' });
  await expect(list.getByRole('link', { name: `@${other.handle} replied to your comment` })).toHaveAttribute(
    'href',
    `/watch/${video.id}`,
  );
  await expect(list.getByRole('link', { name: `@${other.handle} followed you` })).toHaveAttribute(
    'href',
    `/people/${other.handle}`,
  );
  await expectAccessible(page);
  await screenshot(page, 'notifications');

  await page.getByRole('button', { name: 'Mark all read' }).click();
  await expect(count(page)).toHaveAttribute('data-count', '0');
  await expect(count(second)).toHaveAttribute('data-count', '0'); // the other tab, without a reload
  await expect(list.locator('[data-read="false"]')).toHaveCount(0);
  await theirs.close();
});

test('new followers group into one notification live; mark it read alone; switch a kind off', async ({
  page,
  request,
}) => {
  const me = await signUpViaApi(request, newUser('grp'));
  const ana = await signUpViaApi(request, newUser('ana'));
  const bo = await signUpViaApi(request, newUser('bo'));
  const cy = await signUpViaApi(request, newUser('cy'));
  await signInViaStorage(page, request, me);
  await page.goto('/notifications');
  await liveBell(page);
  await expect(page.getByText(/Nothing yet/)).toBeVisible();

  const list = page.getByRole('list', { name: 'Your notifications' });
  await follow(request, ana, me);
  await expect(list.getByRole('listitem')).toHaveCount(1);
  await expect(list).toContainText(`@${ana.handle} followed you`);
  await follow(request, bo, me);
  await follow(request, cy, me);
  // One notification, grown live, newest follower first.
  await expect(list.getByRole('listitem')).toHaveCount(1);
  await expect(list).toContainText(`@${cy.handle}, @${bo.handle} and @${ana.handle} followed you`);
  await expect(count(page)).toHaveAttribute('data-count', '1');

  await list.getByRole('button', { name: /^Mark read:/ }).click();
  await expect(count(page)).toHaveAttribute('data-count', '0');
  await expect(list.locator('[data-read="true"]')).toHaveCount(1);

  await page.getByRole('link', { name: 'Choose what you are told about' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Notification settings' })).toBeVisible();
  const followers = page.getByRole('checkbox', { name: 'New followers' });
  await expect(followers).toBeChecked();
  await followers.uncheck();
  await expect(page.getByRole('status').filter({ hasText: 'New followers: off. Saved.' })).toBeVisible();
  await expectAccessible(page);
  await screenshot(page, 'notification-settings');
  await page.reload();
  await expect(page.getByRole('checkbox', { name: 'New followers' })).not.toBeChecked();
  await expect(page.getByRole('checkbox', { name: 'Replies to your comments' })).toBeChecked();
});

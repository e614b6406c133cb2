import { randomBytes } from 'node:crypto';
import { writeFile, mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { expect, test, type APIRequestContext, type Page, type WebSocketRoute } from '@playwright/test';
import { expectAccessible } from './support/axe';
import { BASE_URL, WEB_DIR } from './support/env';
import { screenshot } from './support/screenshots';
import { createAdmin, createStaff } from './support/staff';
import { signInViaStorage, signUpViaApi, type TestUser } from './support/users';

const bearer = (user: TestUser) => ({ authorization: `Bearer ${user.accessToken ?? ''}` });

async function demoVideo(request: APIRequestContext): Promise<{ id: string; title: string }> {
  const response = await request.get('/videos?limit=10');
  const { items } = (await response.json()) as { items: { id: string; title: string }[] };
  expect(items.length, 'the dev server seeds demo videos').toBeGreaterThan(0);
  return items[items.length - 1]!;
}

async function postComment(
  request: APIRequestContext,
  author: TestUser,
  videoId: string,
  body: string,
): Promise<{ id: number; status: string }> {
  const response = await request.post(`/videos/${videoId}/comments`, {
    data: { body },
    headers: bearer(author),
  });
  expect(response.status(), await response.text()).toBe(201);
  return (await response.json()) as { id: number; status: string };
}

/**
 * The page's websockets pass through the test, which sees every frame the server sends and can
 * drop a connection (a real close the client must recover from).
 */
async function watchSockets(page: Page) {
  const sockets: WebSocketRoute[] = [];
  const frames: { socket: number; data: Record<string, unknown> }[] = [];
  await page.routeWebSocket(/\/ws$/, (ws) => {
    const index = sockets.push(ws) - 1;
    const server = ws.connectToServer();
    ws.onMessage((message) => server.send(message));
    server.onMessage((message) => {
      if (typeof message === 'string')
        frames.push({ socket: index, data: JSON.parse(message) as Record<string, unknown> });
      ws.send(message);
    });
  });
  return {
    sockets,
    /** Wait until socket `index` confirmed a subscription to `channel`. */
    async subscribed(index: number, channel: string): Promise<void> {
      await expect
        .poll(() =>
          frames.some(
            (f) => f.socket === index && f.data['type'] === 'subscribed' && f.data['channel'] === channel,
          ),
        )
        .toBe(true);
    },
  };
}

test('a removal in the console disappears from an open video page at once, and stays gone after reload and reconnect', async ({
  page: viewer,
  browser,
  request,
}) => {
  const tag = randomBytes(4).toString('hex');
  const video = await demoVideo(request);
  const poster = await signUpViaApi(request);
  const reporter = await signUpViaApi(request);
  const moderator = await createStaff(request, 'moderator');
  const doomed = await postComment(request, poster, video.id, `doomed comment ${tag}`);
  const kept = await postComment(request, poster, video.id, `kept comment ${tag}`);
  const reported = await request.post(`/comments/${doomed.id}/reports`, {
    data: { reason: 'spam' },
    headers: bearer(reporter),
  });
  expect(reported.status(), await reported.text()).toBe(204);

  // A viewer has the video open, its channel subscribed.
  const live = await watchSockets(viewer);
  await viewer.goto(`/watch/${video.id}`);
  const doomedOnPage = viewer.getByTestId(`comment-${doomed.id}`);
  await expect(doomedOnPage).toContainText(`doomed comment ${tag}`);
  await expect(viewer.getByTestId(`comment-${kept.id}`)).toContainText(`kept comment ${tag}`);
  await live.subscribed(live.sockets.length - 1, `video:${video.id}`);

  // A moderator, in another browser, finds the reported comment in the queue and removes it.
  const staffContext = await browser.newContext();
  const staffPage = await staffContext.newPage();
  await signInViaStorage(staffPage, request, moderator);
  await staffPage.goto('/moderate');
  const entry = staffPage.getByTestId(`queue-${doomed.id}`);
  await expect(entry).toContainText(`doomed comment ${tag}`);
  await expect(entry).toContainText('Reported 1 time');
  await expect(entry).toContainText('spam');
  await expectAccessible(staffPage);
  await screenshot(staffPage, 'moderation-queue');

  const gone = doomedOnPage.waitFor({ state: 'detached', timeout: 5000 });
  const clicked = Date.now();
  await entry.getByRole('button', { name: `Remove comment ${doomed.id}` }).click();
  await gone;
  const latencyMs = Date.now() - clicked;
  await expect(
    staffPage.getByRole('status').filter({ hasText: `Comment ${doomed.id} removed.` }),
  ).toBeVisible();
  await expect(entry).toHaveCount(0);
  // The figure the issue asks for (goal: under a second), measured end to end: click, REST
  // removal, outbox relay, gateway, the viewer's page. Reported, not a timed assertion.
  test.info().annotations.push({ type: 'removal-latency-ms', description: String(latencyMs) });
  const results = resolve(WEB_DIR, 'test-results');
  await mkdir(results, { recursive: true });
  await writeFile(resolve(results, 'moderation-removal-latency.json'), JSON.stringify({ latencyMs }) + '\n');
  process.stdout.write(`removal reached the viewer in ${latencyMs} ms\n`);
  await expect(viewer.getByText(`doomed comment ${tag}`)).toHaveCount(0);
  await expect(viewer.getByTestId(`comment-${kept.id}`)).toBeVisible();

  // A reload loads the comments by REST: the removed one is not among them.
  await viewer.reload();
  await expect(viewer.getByTestId(`comment-${kept.id}`)).toBeVisible();
  await expect(viewer.getByText(`doomed comment ${tag}`)).toHaveCount(0);
  const afterReload = live.sockets.length - 1;
  await live.subscribed(afterReload, `video:${video.id}`);

  // The connection drops; the client reconnects and recovers the channel. Still gone, and a
  // comment posted after the reconnect arrives live over the new socket.
  await live.sockets[afterReload]!.close({ code: 4001, reason: 'test: server shutting down' });
  await expect.poll(() => live.sockets.length).toBe(afterReload + 2);
  await live.subscribed(afterReload + 1, `video:${video.id}`);
  const later = await postComment(request, poster, video.id, `later comment ${tag}`);
  await expect(viewer.getByTestId(`comment-${later.id}`)).toContainText(`later comment ${tag}`);
  await expect(viewer.getByText(`doomed comment ${tag}`)).toHaveCount(0);
  await staffContext.close();
});

test('held words, approval, slow mode, timeouts and their lifting, and the admin audit log', async ({
  page,
  browser,
  request,
}) => {
  const tag = randomBytes(4).toString('hex');
  const word = `spoilerword${tag}`;
  const video = await demoVideo(request);
  const poster = await signUpViaApi(request);
  const moderator = await createStaff(request, 'moderator');
  await signInViaStorage(page, request, moderator);

  // Held words: a comment with one waits in the queue until approved.
  await page.goto('/moderate?tool=held-words');
  await page.getByLabel('Word or phrase').fill(word);
  await page.getByLabel('Reason').fill('spoilers');
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  const words = page.getByRole('region', { name: 'Held words' });
  await expect(words.getByText(word)).toBeVisible();
  await expectAccessible(page);
  await screenshot(page, 'moderation-held-words');

  const held = await postComment(request, poster, video.id, `the twist: ${word.toUpperCase()} did it`);
  expect(held.status).toBe('held');
  await page.getByRole('link', { name: 'Review queue' }).click();
  const entry = page.getByTestId(`queue-${held.id}`);
  await expect(entry).toContainText('Held for review');
  await entry.getByRole('button', { name: `Approve comment ${held.id}` }).click();
  await expect(entry).toHaveCount(0);
  expect((await request.get(`/comments/${held.id}`)).status()).toBe(200);

  await page.getByRole('link', { name: 'Held words' }).click();
  await words.getByRole('button', { name: `Stop holding “${word}”` }).click();
  await expect(words.getByText(word)).toHaveCount(0);

  // Slow mode, set from a pasted link, and turned off again.
  await page.getByRole('link', { name: 'Slow mode' }).click();
  await page.getByLabel('Video').fill(`${BASE_URL}/watch/${video.id}`);
  await page.getByLabel('Pace').selectOption('30');
  await page.getByRole('button', { name: 'Set slow mode' }).click();
  await expect(
    page.getByRole('status').filter({ hasText: 'Slow mode is on: one comment per person every 30 seconds.' }),
  ).toBeVisible();
  expect(await (await request.get(`/videos/${video.id}/slow-mode`)).json()).toMatchObject({ seconds: 30 });
  await expectAccessible(page);
  await screenshot(page, 'moderation-slow-mode');
  await page.getByLabel('Pace').selectOption('0');
  await page.getByRole('button', { name: 'Set slow mode' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Slow mode is off on that video.' })).toBeVisible();
  await page.getByLabel('Video').fill('not a link');
  await page.getByRole('button', { name: 'Set slow mode' }).click();
  await expect(page.getByRole('alert')).toContainText('does not hold a video id');

  // A timeout stops the poster from commenting until it is lifted.
  await page.getByRole('link', { name: 'Timeouts and bans' }).click();
  await page.getByLabel('Handle').fill(poster.handle);
  await page.getByLabel('Reason', { exact: true }).fill('cool off');
  await page.getByRole('button', { name: 'Time out' }).click();
  await expect(page.getByRole('status').filter({ hasText: `@${poster.handle} timed out.` })).toBeVisible();
  const inForce = page.getByRole('region', { name: 'In force' });
  await expect(inForce.getByRole('listitem').filter({ hasText: `@${poster.handle}` })).toContainText(
    'timed out everywhere',
  );
  const refused = await request.post(`/videos/${video.id}/comments`, {
    data: { body: 'let me speak' },
    headers: bearer(poster),
  });
  expect(refused.status()).toBe(403);
  expect(((await refused.json()) as { error: string }).error).toBe('timed_out');
  await expectAccessible(page);
  await screenshot(page, 'moderation-restrictions');
  await inForce.getByRole('button', { name: `Lift the timeout of @${poster.handle}` }).click();
  await expect(inForce.getByText(`@${poster.handle}`)).toHaveCount(0);
  await postComment(request, poster, video.id, `back again ${tag}`);

  // A moderator cannot restrict an admin: the refusal is said in words.
  const admin = await createAdmin(request);
  await page.getByLabel('Handle').fill(admin.handle);
  await page.getByRole('button', { name: 'Time out' }).click();
  await expect(page.getByRole('alert')).toHaveText('You are not allowed to do that.');

  // The audit log is the admins': a moderator has no such tool, an admin sees every action.
  await expect(page.getByRole('link', { name: 'Audit log' })).toHaveCount(0);
  const adminContext = await browser.newContext();
  const adminPage = await adminContext.newPage();
  await signInViaStorage(adminPage, request, admin);
  await adminPage.goto('/moderate?tool=log');
  const log = adminPage.getByRole('region', { name: 'Audit log' });
  await expect(log.getByRole('listitem').filter({ hasText: 'lifted a timeout' }).first()).toContainText(
    `@${moderator.handle}`,
  );
  await expect(
    log
      .getByRole('listitem')
      .filter({ hasText: `approved comment ${held.id}` })
      .first(),
  ).toBeVisible();
  await expect(
    log
      .getByRole('listitem')
      .filter({ hasText: `held the word “${word}”` })
      .first(),
  ).toBeVisible();
  await expectAccessible(adminPage);
  await screenshot(adminPage, 'moderation-log');
  await adminContext.close();
});

test('a viewer opening the console is told it is for moderators', async ({ page, request }) => {
  const viewer = await signUpViaApi(request);
  await signInViaStorage(page, request, viewer);
  await page.goto('/moderate');
  await expect(page.getByRole('alert')).toHaveText(
    'Only moderators and admins can use the moderation console.',
  );
  await expectAccessible(page);
});

import { expect, test, type Browser, type Page } from '@playwright/test';
import { expectAccessible } from './support/axe';
import {
  DEMO_VIDEO_ID,
  delayWebSockets,
  errorMs,
  followerStats,
  partyState,
  percentile,
  recordStalls,
  sampleWhile,
  skewClock,
  type Sample,
} from './support/partySync';
import { screenshot } from './support/screenshots';
import { newUser, signInViaStorage, signUpViaApi, type TestUser } from './support/users';

/** After each change takes effect, viewers get this long to converge before they are judged (ms). */
const SETTLE_MS = 2000;
/** Sampling period, as the brief asks (ms). */
const EVERY_MS = 250;

async function viewer(
  browser: Browser,
  request: Parameters<typeof signUpViaApi>[0],
  setup: (context: Awaited<ReturnType<Browser['newContext']>>) => Promise<void> = async () => undefined,
): Promise<{ page: Page; user: TestUser }> {
  const context = await browser.newContext();
  await setup(context);
  await recordStalls(context);
  const page = await context.newPage();
  const user = await signUpViaApi(request, newUser('party'));
  await signInViaStorage(page, request, user);
  return { page, user };
}

async function waitForDemoVideo(request: Parameters<typeof signUpViaApi>[0]): Promise<void> {
  await expect
    .poll(
      async () =>
        ((await (await request.get(`/videos/${DEMO_VIDEO_ID}`)).json()) as { status: string }).status,
      {
        timeout: 120_000,
      },
    )
    .toBe('ready');
}

/** Wait until the page follows the party: a state, a clock, and the video loaded. */
async function following(page: Page): Promise<void> {
  await expect(page.getByTestId('sync-indicator')).toContainText(/Clock offset [+-]?\d/);
  await expect.poll(() => partyState(page).then((s) => s?.revision ?? null)).not.toBeNull();
  await expect
    .poll(() => page.evaluate(() => document.querySelector('video')?.readyState ?? 0))
    .toBeGreaterThanOrEqual(1);
}

/** The state every page agrees on, once the command's change has reached all of them. */
async function agreed(
  pages: Page[],
  check: (s: NonNullable<Awaited<ReturnType<typeof partyState>>>) => boolean,
) {
  let revision = 0;
  await expect
    .poll(async () => {
      const states = await Promise.all(pages.map(partyState));
      if (states.some((s) => s === null || !check(s))) return false;
      revision = Math.max(...states.map((s) => s?.revision ?? 0));
      return true;
    })
    .toBe(true);
  const state = await partyState(pages[0] as Page);
  return { state: state as NonNullable<typeof state>, revision };
}

/** Samples taken at least SETTLE_MS after the state's change took effect. */
function settled(samples: Sample[], since = 0): Sample[] {
  const from = (s: Sample) => Math.max(s.state.playback.at, since) + SETTLE_MS;
  return samples.filter((s) => s.viewers.every((v) => v.at >= from(s)));
}

/**
 * A viewer's errors (ms) in these samples, leaving out the moments right after its video stalled
 * (ran out of media: the shared machine serving segments late), which say nothing about sync.
 */
function errorsOf(samples: Sample[], index: number): number[] {
  const errors: number[] = [];
  for (const s of samples) {
    const viewer = s.viewers[index] as Sample['viewers'][number];
    if (viewer.lastStallAt !== null && viewer.at - viewer.lastStallAt < SETTLE_MS) continue;
    errors.push(errorMs(s.state, viewer));
  }
  return errors;
}

/** Every judged |error| (ms) per viewer, over all phases, for the bound on the whole test. */
const pooled = new Map<string, number[]>();

/**
 * Correctness bounds with margin (the goal, p95 ≤ 50 ms over two minutes, is the benchmark's).
 * Per phase the typical viewer must be close and none may be lost; a single stall of a player on
 * this shared machine may put one sample out, so the tail is judged over the whole test.
 */
function expectInSync(samples: Sample[], names: string[], phase: string, since = 0): void {
  const judged = settled(samples, since);
  expect(judged.length, `${phase}: settled samples`).toBeGreaterThanOrEqual(4);
  names.forEach((name, index) => {
    const signed = errorsOf(judged, index);
    expect(signed.length, `${phase}: ${name} samples without a stall`).toBeGreaterThanOrEqual(3);
    const errors = signed.map(Math.abs);
    const stalled = judged.length - signed.length;
    console.log(
      `${phase} ${name}: errors (ms) ${signed.map((e) => e.toFixed(0)).join(' ')}` +
        (stalled ? ` (${stalled} left out after a stall)` : ''),
    );
    expect(percentile(errors, 50), `${phase}: ${name} median |error| ms`).toBeLessThanOrEqual(30);
    expect(Math.max(...errors), `${phase}: ${name} worst |error| ms`).toBeLessThan(400);
    pooled.set(name, [...(pooled.get(name) ?? []), ...errors]);
  });
}

function expectTailsBounded(): void {
  for (const [name, errors] of pooled) {
    const p95 = percentile(errors, 95);
    console.log(`${name}: p95 |error| ${p95.toFixed(1)} ms over ${errors.length} samples`);
    expect(p95, `${name}: p95 |error| ms over the test`).toBeLessThanOrEqual(60);
  }
}

test.describe.configure({ timeout: 240_000 });

test('three viewers (one 150 ms away, one with its clock 2.5 s ahead) and a late joiner stay together', async ({
  browser,
  request,
}) => {
  await waitForDemoVideo(request);
  const host = await viewer(browser, request);
  const slow = await viewer(browser, request, (context) => delayWebSockets(context, 150));
  const skewed = await viewer(browser, request, (context) => skewClock(context, 2500));

  // The host starts a private party from the video, and passes the invite link on.
  await host.page.goto(`/party?video=${DEMO_VIDEO_ID}`);
  await expect(host.page.getByLabel('Video')).toHaveValue(DEMO_VIDEO_ID);
  await expectAccessible(host.page);
  await screenshot(host.page, 'party-start');
  await host.page.getByRole('button', { name: 'Start the party' }).click();
  const link = await host.page.getByLabel('Invite link', { exact: true }).inputValue();
  expect(link).toMatch(/\/party\/[0-9a-f-]{36}\?invite=/);

  for (const other of [slow, skewed]) {
    await other.page.goto(link);
    await other.page.getByRole('button', { name: 'Join the party' }).click();
  }
  const pages = [host.page, slow.page, skewed.page];
  const names = ['host', 'slow (150 ms)', 'skewed (+2.5 s)'];
  await Promise.all(pages.map(following));

  // Everyone sees everyone online, the host marked; only the host may control playback.
  for (const page of pages) {
    await expect(page.getByTestId('party-member')).toHaveCount(3);
    await expect(page.locator('[data-testid=party-member][data-host=true]')).toContainText(
      `@${host.user.handle}`,
    );
  }
  await expect(slow.page.getByRole('button', { name: 'Play' })).toBeDisabled();
  await expect(slow.page.getByText(`@${host.user.handle} controls playback.`)).toBeVisible();

  // The skewed page's clock is 2.5 s ahead: its offset to the server says so.
  const offset = await skewed.page.evaluate(() => {
    const probe = window.__mydrtvParty;
    return probe
      ? (probe.serverNow() ?? Number.NaN) - (performance.timeOrigin + performance.now())
      : Number.NaN;
  });
  expect(Math.abs(offset + 2500)).toBeLessThan(50);

  // Play from the start.
  await host.page.getByRole('button', { name: 'Play' }).click();
  await agreed(pages, (s) => s.playback.playing);
  expectInSync(await sampleWhile(pages, EVERY_MS, 4500), names, 'play');

  // Seek to 0:15 while playing.
  await host.page.getByLabel('Go to (m:ss)').fill('0:15');
  await host.page.getByRole('button', { name: 'Go', exact: true }).click();
  await agreed(pages, (s) => s.playback.playing && s.playback.position === 15);
  expectInSync(await sampleWhile(pages, EVERY_MS, 4000), names, 'seek');

  // Speed 1.5×: players follow the new rate.
  await host.page.getByLabel('Speed').selectOption('1.5');
  await agreed(pages, (s) => s.playback.rate === 1.5);
  const fast = await sampleWhile(pages, EVERY_MS, 4000);
  expectInSync(fast, names, 'rate 1.5');
  for (const sample of settled(fast))
    for (const v of sample.viewers) expect(Math.abs(v.playbackRate - 1.5)).toBeLessThanOrEqual(0.15 + 1e-9);

  // Pause: everyone stops at the same frame.
  await host.page.getByRole('button', { name: 'Pause' }).click();
  const { state: paused } = await agreed(pages, (s) => !s.playback.playing);
  await expect
    .poll(() => Promise.all(pages.map((p) => p.evaluate(() => document.querySelector('video')?.paused))))
    .toEqual([true, true, true]);
  const still = settled(await sampleWhile(pages, EVERY_MS, 2000));
  for (const sample of still)
    sample.viewers.forEach((v, index) => {
      expect(v.paused, names[index]).toBe(true);
      expect(Math.abs(v.currentTime - paused.playback.position) * 1000, names[index]).toBeLessThanOrEqual(20);
    });
  await screenshot(skewed.page, 'party-paused');

  // Back to 0:05 while paused, then play: a late joiner comes in while it plays.
  await host.page.getByLabel('Go to (m:ss)').fill('0:05');
  await host.page.getByRole('button', { name: 'Go', exact: true }).click();
  await agreed(pages, (s) => !s.playback.playing && s.playback.position === 5);
  await host.page.getByRole('button', { name: 'Play' }).click();
  await agreed(pages, (s) => s.playback.playing && s.playback.position === 5);
  const late = await viewer(browser, request);
  await late.page.goto(link);
  await late.page.getByRole('button', { name: 'Join the party' }).click();
  await following(late.page);
  const joined = Date.now();
  const everyone = [...pages, late.page];
  await agreed(everyone, (s) => s.playback.playing);
  expectInSync(await sampleWhile(everyone, EVERY_MS, 4000), [...names, 'late joiner'], 'late joiner', joined);

  expectTailsBounded();

  // The follower of each page kept to few corrections: no seeking storm.
  for (const [index, page] of pages.entries()) {
    const stats = await followerStats(page);
    console.log(`${names[index]} stats`, JSON.stringify(stats));
    expect(stats.correctiveSeeks, names[index]).toBeLessThanOrEqual(4);
  }
  await expect(host.page.getByTestId('party-member')).toHaveCount(4);
  await expectAccessible(host.page);
  await screenshot(host.page, 'party');
  await screenshot(late.page, 'party-late-joiner', { phone: false });
});

test('chat, reactions, hand-over, taking control from an away host, leaving', async ({
  browser,
  request,
}) => {
  await waitForDemoVideo(request);
  const host = await viewer(browser, request);
  const guest = await viewer(browser, request);

  await host.page.goto('/party');
  await expect(host.page.getByText('You are in no party yet.')).toBeVisible();
  await host.page.getByLabel('Video').selectOption(DEMO_VIDEO_ID);
  await host.page.getByRole('radio', { name: 'The host' }).check();
  await host.page.getByRole('button', { name: 'Start the party' }).click();
  const link = await host.page.getByLabel('Invite link', { exact: true }).inputValue();

  // A wrong invite is explained; the right one lets the guest in.
  const wrong = link.replace(/invite=.*/, 'invite=not-the-invite');
  await guest.page.goto(wrong);
  await guest.page.getByRole('button', { name: 'Join the party' }).click();
  await expect(guest.page.getByRole('alert')).toHaveText(
    'This invite link is not valid any more. Ask the host for a new one.',
  );
  await expectAccessible(guest.page);
  await screenshot(guest.page, 'party-invalid-invite', { phone: false });
  await guest.page.goto(link);
  await guest.page.getByRole('button', { name: 'Join the party' }).click();
  await following(guest.page);
  await following(host.page);

  // Chat reaches both, with where in the video it was written.
  await guest.page.getByLabel('Message', { exact: true }).fill('hello from the guest');
  await guest.page.getByRole('button', { name: 'Send' }).click();
  await expect(host.page.getByRole('list', { name: 'Messages' })).toContainText('hello from the guest');
  await expect(guest.page.getByLabel('Message', { exact: true })).toHaveValue('');

  // A reaction shows on everyone's screen.
  await host.page.getByRole('button', { name: 'React: Laugh' }).click();
  await expect(guest.page.getByRole('list', { name: 'Recent reactions' })).toContainText(
    `@${host.user.handle}`,
  );

  // The guest cannot control playback; a refused command would be explained.
  await expect(guest.page.getByRole('button', { name: 'Play' })).toBeDisabled();

  // The host lets everyone control playback, then takes it back.
  // (The box shows the party's setting, so it changes once the server has agreed.)
  const everyone = host.page.getByLabel('Everyone controls playback');
  await everyone.click();
  await expect(everyone).toBeChecked();
  await expect(guest.page.getByRole('button', { name: 'Play' })).toBeEnabled();
  await everyone.click();
  await expect(everyone).not.toBeChecked();
  await expect(guest.page.getByRole('button', { name: 'Play' })).toBeDisabled();

  // The host hands control over: the guest can now play, the old host cannot.
  await host.page.getByRole('button', { name: `Make @${guest.user.handle} host` }).click();
  await expect(guest.page.getByRole('button', { name: 'Play' })).toBeEnabled();
  await expect(host.page.getByRole('button', { name: 'Play' })).toBeDisabled();
  await guest.page.getByRole('button', { name: 'Play' }).click();
  await agreed([host.page, guest.page], (s) => s.playback.playing);

  // The new host goes away (closes the page): the other member may take control.
  await guest.page.close();
  const take = host.page.getByRole('button', { name: 'Take control (the host is away)' });
  await expect(take).toBeVisible({ timeout: 30_000 });
  await expectAccessible(host.page);
  await screenshot(host.page, 'party-host-away');
  await take.click();
  await expect(host.page.locator('[data-testid=party-member][data-host=true]')).toContainText(
    `@${host.user.handle}`,
  );
  await expect(host.page.getByRole('button', { name: 'Pause' })).toBeEnabled();

  // Leaving goes back to the list of parties.
  await host.page.getByRole('button', { name: 'Leave the party' }).click();
  await expect(host.page.getByRole('heading', { name: 'Watch parties' })).toBeVisible();
});

test('the parties page signed out, and a party that does not exist', async ({ page }) => {
  await page.goto('/party');
  await expect(page.getByText('to start a party or join one.')).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Public parties now' })).toBeVisible();
  await expectAccessible(page);
  await screenshot(page, 'parties-signed-out');
  await page.goto('/party/00000000-0000-4000-8000-000000000000');
  await expect(page.getByRole('alert')).toHaveText('This watch party could not be found.');
  await expectAccessible(page);
});

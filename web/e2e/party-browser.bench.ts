/**
 * Two minutes of watch-party playback in real browsers, for the benchmark (bench/party_browser.py
 * runs this with PARTY_BENCH_CLIP, a clip over two minutes long, and PARTY_BENCH_OUT, where the
 * JSON goes). Three viewers: one plain, one with 150 ms each way on its websocket, one with its
 * clock 2.5 s ahead. The same page runs twice in the same run: with the party's drift policy,
 * then with Jellyfin SyncPlay's thresholds (speed from 60 ms, skip from 400 ms).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import {
  expect,
  test,
  type APIRequestContext,
  type Browser,
  type BrowserContext,
  type Page,
} from '@playwright/test';
import {
  delayWebSockets,
  errorMs,
  followerStats,
  partyState,
  percentile,
  sampleWhile,
  skewClock,
  useSyncPlayPolicy,
  type FollowerStatsWire,
  type Sample,
} from './support/partySync';
import { newUser, signInViaStorage, signUpViaApi, type TestUser } from './support/users';

const PLAY_MS = Number(process.env['PARTY_BENCH_SECONDS'] ?? 120) * 1000;
const EVERY_MS = 250;
/** The first second after the start is the start itself, not the steady state being measured. */
const SETTLE_MS = 1000;

const VIEWERS: Array<{ name: string; setup: (context: BrowserContext) => Promise<void> }> = [
  { name: 'plain', setup: async () => undefined },
  { name: 'websocket +150 ms each way', setup: (context) => delayWebSockets(context, 150) },
  { name: 'clock +2.5 s', setup: (context) => skewClock(context, 2500) },
];

async function uploadClip(request: APIRequestContext, owner: TestUser): Promise<string> {
  const auth = { authorization: `Bearer ${owner.accessToken}` };
  const created = await request.post('/videos', {
    data: { title: 'Party benchmark clip', description: '', visibility: 'public' },
    headers: auth,
  });
  expect(created.status(), await created.text()).toBe(201);
  const { id } = (await created.json()) as { id: string };
  const clip = process.env['PARTY_BENCH_CLIP'];
  if (!clip) throw new Error('set PARTY_BENCH_CLIP to a video file longer than the run');
  const uploaded = await request.put(`/videos/${id}/media`, {
    data: readFileSync(clip),
    headers: { ...auth, 'content-type': 'video/mp4' },
    timeout: 120_000,
  });
  expect(uploaded.status(), await uploaded.text()).toBe(202);
  await expect
    .poll(async () => ((await (await request.get(`/videos/${id}`)).json()) as { status: string }).status, {
      timeout: 600_000,
      intervals: [1000],
    })
    .toBe('ready');
  return id;
}

interface ViewerResult {
  name: string;
  p95_abs_error_ms: number;
  max_abs_error_ms: number;
  corrective_seeks: number;
  rate_changes: number;
  rate_corrections: number;
  corrective_seeks_per_minute: number;
  stutter_per_minute: number;
  rate_changes_per_minute: number;
  unasked_pauses: number;
  stalls: number;
  start_latency_ms: number;
}

async function runPolicy(
  browser: Browser,
  request: APIRequestContext,
  videoId: string,
  policy: 'mydrtv' | 'syncplay',
) {
  const contexts: BrowserContext[] = [];
  const pages: Page[] = [];
  const users: TestUser[] = [];
  for (const viewer of VIEWERS) {
    const context = await browser.newContext();
    await viewer.setup(context);
    if (policy === 'syncplay') await useSyncPlayPolicy(context);
    const page = await context.newPage();
    const user = await signUpViaApi(request, newUser('bench'));
    await signInViaStorage(page, request, user);
    contexts.push(context);
    pages.push(page);
    users.push(user);
  }
  const [host, ...guests] = users as [TestUser, ...TestUser[]];
  const created = await request.post('/parties', {
    data: { video_id: videoId, visibility: 'private', control: 'host' },
    headers: { authorization: `Bearer ${host.accessToken}` },
  });
  expect(created.status(), await created.text()).toBe(201);
  const party = (await created.json()) as { id: string; invite: string };
  for (const guest of guests) {
    const joined = await request.post(`/parties/${party.id}/join`, {
      data: { invite: party.invite },
      headers: { authorization: `Bearer ${guest.accessToken}` },
    });
    expect(joined.status(), await joined.text()).toBe(200);
  }
  for (const page of pages) await page.goto(`/party/${party.id}`);
  for (const page of pages) {
    await expect(page.getByTestId('sync-indicator')).toContainText(/Clock offset [+-]?\d/);
    await expect
      .poll(() => page.evaluate(() => document.querySelector('video')?.readyState ?? 0))
      .toBeGreaterThanOrEqual(2);
    await expect(page.getByTestId('party-member')).toHaveCount(VIEWERS.length);
  }

  const hostPage = pages[0] as Page;
  await hostPage.getByRole('button', { name: 'Play' }).click();
  await expect
    .poll(async () => (await Promise.all(pages.map(partyState))).every((s) => s?.playback.playing))
    .toBe(true);
  const started = (await partyState(hostPage))?.playback.at ?? Date.now();
  // Wait out the scheduled start and the settling second, then count from there.
  await expect.poll(() => Date.now() >= started + SETTLE_MS, { intervals: [100] }).toBe(true);
  for (const page of pages)
    await page.evaluate(() => {
      const video = document.querySelector('video');
      const counts = { pause: 0, waiting: 0, corrections: 0 };
      (window as unknown as { __benchCounts: typeof counts }).__benchCounts = counts;
      video?.addEventListener('pause', () => (counts.pause += 1));
      video?.addEventListener('waiting', () => (counts.waiting += 1));
      // A correction by rate: the rate leaves the party's (however many small steps follow).
      let off = false;
      video?.addEventListener('ratechange', () => {
        const rate = window.__mydrtvParty?.state()?.playback.rate ?? 1;
        const nowOff = Math.abs(video.playbackRate - rate) > 1e-4;
        if (nowOff && !off) counts.corrections += 1;
        off = nowOff;
      });
    });
  const before: FollowerStatsWire[] = await Promise.all(pages.map(followerStats));
  const samples: Sample[] = await sampleWhile(pages, EVERY_MS, PLAY_MS);
  const after: FollowerStatsWire[] = await Promise.all(pages.map(followerStats));
  const counts = await Promise.all(
    pages.map((page) =>
      page.evaluate(
        () =>
          (window as unknown as { __benchCounts: { pause: number; waiting: number; corrections: number } })
            .__benchCounts,
      ),
    ),
  );
  const minutes = PLAY_MS / 60_000;
  const judged = samples.filter((s) => s.state.playback.playing);

  const viewers: ViewerResult[] = VIEWERS.map((viewer, index) => {
    const errors = judged.map((s) =>
      Math.abs(errorMs(s.state, s.viewers[index] as Sample['viewers'][number])),
    );
    const seeks = (after[index]?.correctiveSeeks ?? 0) - (before[index]?.correctiveSeeks ?? 0);
    const rates = (after[index]?.rateChanges ?? 0) - (before[index]?.rateChanges ?? 0);
    return {
      name: viewer.name,
      p95_abs_error_ms: round(percentile(errors, 95)),
      max_abs_error_ms: round(Math.max(...errors)),
      corrective_seeks: seeks,
      rate_changes: rates,
      rate_corrections: counts[index]?.corrections ?? 0,
      corrective_seeks_per_minute: round(seeks / minutes),
      stutter_per_minute: round((seeks + (counts[index]?.corrections ?? 0)) / minutes),
      rate_changes_per_minute: round(rates / minutes),
      unasked_pauses: counts[index]?.pause ?? 0,
      stalls: counts[index]?.waiting ?? 0,
      start_latency_ms: round(
        (after[index] as FollowerStatsWire & { startLatencyMs?: number }).startLatencyMs ?? 0,
      ),
    };
  });
  // Between viewers: every pair, at every sample, each read against the party at its own instant.
  const pairs: number[] = [];
  for (const s of judged)
    for (let i = 0; i < s.viewers.length; i += 1)
      for (let j = i + 1; j < s.viewers.length; j += 1)
        pairs.push(
          Math.abs(errorMs(s.state, s.viewers[i] as never) - errorMs(s.state, s.viewers[j] as never)),
        );
  const readMs = samples.flatMap((s) => s.viewers.map((v) => v.readMs));
  for (const context of contexts) await context.close();
  return {
    policy,
    seconds: PLAY_MS / 1000,
    samples: samples.length,
    samples_playing: judged.length,
    between_viewers: {
      p50_ms: round(percentile(pairs, 50)),
      p95_ms: round(percentile(pairs, 95)),
      max_ms: round(Math.max(...pairs)),
    },
    read_ms_p95: round(percentile(readMs, 95)),
    page_clock_outside_read_max_ms: round(
      Math.max(...samples.flatMap((s) => s.viewers.map((v) => v.clockOutsideMs))),
    ),
    viewers,
  };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

test('two minutes of party playback: our drift policy beside SyncPlay thresholds', async ({
  browser,
  request,
}) => {
  const owner = await signUpViaApi(request, newUser('benchowner'));
  const videoId = await uploadClip(request, owner);
  const runs = [];
  for (const policy of ['mydrtv', 'syncplay'] as const) {
    const result = await runPolicy(browser, request, videoId, policy);
    console.log(JSON.stringify(result));
    runs.push(result);
  }
  const out = process.env['PARTY_BENCH_OUT'];
  if (out) writeFileSync(out, JSON.stringify({ runs }, null, 2));
});

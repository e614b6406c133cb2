import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { expectAccessible } from './support/axe';
import { makeClip } from './support/clip';
import { screenshot } from './support/screenshots';
import { newUser, signInViaStorage, signUpViaApi } from './support/users';

let workDir = '';
let clip = '';

test.beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'mydrtv-upload-'));
  clip = join(workDir, 'my_holiday-clip.mp4');
  await makeClip(clip);
});

test.afterAll(async () => {
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

test('upload a clip: the bytes, then the transcode live, until it plays', async ({ page, request }) => {
  await signInViaStorage(page, request, await signUpViaApi(request, newUser('uploader')));
  await page.goto('/upload');
  await expect(page.getByRole('heading', { name: 'Upload a video' })).toBeVisible();
  await expectAccessible(page);
  await screenshot(page, 'upload');

  await page.getByLabel('Video file').setInputFiles(clip);
  await expect(page.getByLabel('Title')).toHaveValue('my holiday clip');
  await page.getByLabel('Description').fill('Six seconds of test pattern.');
  await page.getByLabel('Who can watch').selectOption('unlisted'); // every run's upload stays out of the catalog
  // Record every step and every value of the progress bars as the page shows them.
  await page.evaluate(() => {
    const seen = { phases: [] as string[], upload: [] as number[], transcode: [] as number[] };
    (window as unknown as { seen: typeof seen }).seen = seen;
    const record = () => {
      const phase = document.querySelector('[data-phase]')?.getAttribute('data-phase');
      if (phase && seen.phases.at(-1) !== phase) seen.phases.push(phase);
      for (const [id, list] of [
        ['upload-progress', seen.upload],
        ['transcode-progress', seen.transcode],
      ] as const) {
        const bar = document.querySelector<HTMLProgressElement>(`[data-testid="${id}"]`);
        if (bar) list.push(bar.value);
      }
    };
    new MutationObserver(record).observe(document.body, {
      subtree: true,
      childList: true,
      characterData: true,
      attributes: true,
    });
  });
  await page.getByRole('button', { name: 'Upload', exact: true }).click();

  const status = page.getByTestId('upload-status').getByRole('status');
  await expect(status).toHaveAttribute('data-phase', 'processing', { timeout: 60_000 });
  await screenshot(page, 'upload-processing', { phone: false });
  await expect(status).toHaveAttribute('data-phase', 'ready', { timeout: 120_000 });
  const seen = await page.evaluate(
    () => (window as unknown as { seen: { phases: string[]; upload: number[]; transcode: number[] } }).seen,
  );
  // The steps in order, the upload bar full, the transcode bar moving (media.progress events).
  expect(seen.phases.filter((p) => p !== 'uploaded')).toEqual([
    'creating',
    'uploading',
    'processing',
    'ready',
  ]);
  expect(Math.max(...seen.upload)).toBe(1);
  expect(Math.max(...seen.transcode)).toBeGreaterThan(0);
  await expect(status).toHaveText('Ready: your video plays below');

  const video = page.locator('video');
  await expect(video).toBeVisible();
  await video.evaluate((element: HTMLVideoElement) => {
    element.muted = true;
    return element.play();
  });
  await expect
    .poll(() => video.evaluate((element: HTMLVideoElement) => element.currentTime))
    .toBeGreaterThan(0.5);
  await expectAccessible(page);
  await screenshot(page, 'upload-ready');

  await page.getByRole('link', { name: 'Open the video page' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'my holiday clip' })).toBeVisible();
});

test('upload asks for a file, and for a sign-in', async ({ page, request }) => {
  await page.goto('/upload');
  await expect(page.getByText('to upload videos.')).toBeVisible();
  await expectAccessible(page);

  await signInViaStorage(page, request, await signUpViaApi(request, newUser('uploader')));
  await page.goto('/upload');
  await page.getByRole('button', { name: 'Upload', exact: true }).click();
  await expect(page.getByRole('alert')).toHaveText('Choose a video file first.');
});

test('a file that is not a video is refused in words', async ({ page, request }) => {
  await signInViaStorage(page, request, await signUpViaApi(request, newUser('uploader')));
  await page.goto('/upload');
  await page.getByLabel('Video file').setInputFiles({
    name: 'notes.mp4',
    mimeType: 'video/mp4',
    buffer: Buffer.from('these are not the frames you are looking for'),
  });
  await page.getByRole('button', { name: 'Upload', exact: true }).click();
  await expect(page.getByRole('alert')).toHaveText('That file is not a video we can play.');
  await expectAccessible(page);
  await screenshot(page, 'upload-error', { phone: false });
});

/**
 * Time from navigation to the first video frame on the video page, in the machine's Chromium:
 * cold (a new browser context: empty HTTP cache) and warm (the same context, second visit).
 * Run by bench/web_load.py: `node scripts/first-frame.mjs <base-url> <video-id> <rounds>`;
 * prints one JSON document on stdout.
 *
 * "First frame" is the video element's `loadeddata` (the frame at the current position decoded
 * and shown: readyState HAVE_CURRENT_DATA), measured on the page's own clock from the
 * navigation's start; `requestVideoFrameCallback`'s first call is recorded beside it.
 */
import { chromium } from '@playwright/test';

const [base, videoId, roundsArg = '5'] = process.argv.slice(2);
if (!base || !videoId) {
  console.error('usage: first-frame.mjs <base-url> <video-id> [rounds]');
  process.exit(2);
}
const rounds = Number(roundsArg);

// Installed before any page script: watch for the <video> and time its first frame.
const probe = () => {
  const marks = { loadeddata: null, videoFrame: null };
  window.__firstFrame = marks;
  const watch = (video) => {
    video.addEventListener('loadeddata', () => (marks.loadeddata ??= performance.now()), { once: true });
    if ('requestVideoFrameCallback' in video) {
      video.requestVideoFrameCallback(() => (marks.videoFrame ??= performance.now()));
    }
  };
  new MutationObserver((_changes, observer) => {
    const video = document.querySelector('video');
    if (video) {
      observer.disconnect();
      watch(video);
    }
  }).observe(document, { childList: true, subtree: true });
};

async function visit(page) {
  await page.goto(`${base}/watch/${videoId}`, { waitUntil: 'commit' });
  await page.waitForFunction(() => window.__firstFrame && window.__firstFrame.loadeddata !== null, null, {
    timeout: 60_000,
  });
  // The frame callback may follow the event by a paint; give it that long, no more.
  await page
    .waitForFunction(() => window.__firstFrame.videoFrame !== null, null, { timeout: 2_000 })
    .catch(() => undefined);
  return page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const js = performance
      .getEntriesByType('resource')
      .filter((entry) => entry.name.endsWith('.js'))
      .map((entry) => ({ name: new URL(entry.name).pathname, at_ms: Math.round(entry.responseEnd) }));
    return {
      first_frame_ms: Math.round(window.__firstFrame.loadeddata),
      video_frame_callback_ms:
        window.__firstFrame.videoFrame === null ? null : Math.round(window.__firstFrame.videoFrame),
      dom_content_loaded_ms: Math.round(nav.domContentLoadedEventEnd),
      transferred_bytes: performance
        .getEntriesByType('resource')
        .concat([nav])
        .reduce((sum, entry) => sum + (entry.transferSize ?? 0), 0),
      scripts: js,
    };
  });
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
const cold = [];
const warm = [];
try {
  for (let round = 0; round < rounds; round += 1) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.addInitScript(probe);
    const page = await context.newPage();
    cold.push(await visit(page));
    await page.goto('about:blank');
    warm.push(await visit(page));
    await context.close();
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify({ chromium: browser.version(), cold, warm }));

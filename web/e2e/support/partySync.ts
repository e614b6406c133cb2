/**
 * Watching a party from outside the browsers: pages made slow (websocket frames delayed in the
 * page) or with a wrong clock (Date.now and performance.now shifted), and samples of every
 * viewer's `video.currentTime` against where the party's state says playback is, by this
 * process's clock (the server's wall clock on this machine). Used by e2e/party.spec.ts and the
 * browser benchmark (bench/party_browser.py).
 */
import type { BrowserContext, Page } from '@playwright/test';

/** The demo video with the moving test pattern (`app/videos/demo.py`), 30 s long. */
export const DEMO_VIDEO_ID = '00000000-0000-4000-8000-00000000d002';

/**
 * Delay every websocket frame by `ms` each way, inside the page. Chromium's network emulation
 * (CDP `Network.emulateNetworkConditions` latency) delays HTTP but not websocket frames, so the
 * delay is put around the page's own WebSocket: `send` and every incoming event.
 */
export async function delayWebSockets(context: BrowserContext, ms: number): Promise<void> {
  await context.addInitScript((delay: number) => {
    const Native = window.WebSocket;
    const wrap =
      (socket: WebSocket, listener: ((event: Event) => void) | null) =>
      (event: Event): void => {
        if (listener) setTimeout(() => listener.call(socket, event), delay);
      };
    class Delayed extends Native {
      override send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
        setTimeout(() => {
          if (this.readyState === Native.OPEN) super.send(data);
        }, delay);
      }
    }
    for (const name of ['onmessage', 'onclose', 'onopen'] as const) {
      const native = Object.getOwnPropertyDescriptor(Native.prototype, name);
      Object.defineProperty(Delayed.prototype, name, {
        configurable: true,
        get(this: WebSocket) {
          return native?.get?.call(this) as unknown;
        },
        set(this: WebSocket, listener: ((event: Event) => void) | null) {
          native?.set?.call(this, wrap(this, listener));
        },
      });
    }
    window.WebSocket = Delayed;
  }, ms);
}

/** Make the page's clocks (Date.now, performance.now) run `ms` ahead of the real time. */
export async function skewClock(context: BrowserContext, ms: number): Promise<void> {
  await context.addInitScript((skew: number) => {
    const perfNow = performance.now.bind(performance);
    const dateNow = Date.now.bind(Date);
    // The real time stays readable for the samplers, never for the app.
    (window as unknown as { __trueNow: () => number }).__trueNow = () => performance.timeOrigin + perfNow();
    performance.now = () => perfNow() + skew;
    Date.now = () => dateNow() + skew;
  }, ms);
}

/**
 * Note when the page's video stalls (a `waiting` event: it ran out of media), by the real time, so
 * a sampler can tell a player that lost sync from one that had nothing to play. Add it after
 * `skewClock`.
 */
export async function recordStalls(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    const w = window as unknown as { __trueNow?: () => number; __lastStall: number | null };
    w.__lastStall = null;
    document.addEventListener(
      'waiting',
      () => {
        w.__lastStall = w.__trueNow ? w.__trueNow() : performance.timeOrigin + performance.now();
      },
      true,
    );
  });
}

/** Make the page run Jellyfin SyncPlay's thresholds instead of the party's (benchmark only). */
export async function useSyncPlayPolicy(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    window.__MYDRTV_SYNC_POLICY__ = 'syncplay';
  });
}

export interface PlaybackWire {
  video_id: string;
  duration: number | null;
  playing: boolean;
  position: number;
  at: number;
  rate: number;
  version: number;
}

export interface StateWire {
  revision: number;
  playback: PlaybackWire;
  wants_to_play: boolean;
  waiting: boolean;
}

export interface FollowerStatsWire {
  correctiveSeeks: number;
  quietSeeks: number;
  rateChanges: number;
  pauses: number;
  plays: number;
  lastDriftMs: number | null;
}

/** `position_at(t)` of docs/protocol.md, in seconds. */
export function positionAt(playback: PlaybackWire, t: number): number {
  const moved = playback.playing ? (playback.rate * (t - playback.at)) / 1000 : 0;
  const position = playback.position + Math.max(0, moved);
  return playback.duration == null ? position : Math.min(playback.duration, position);
}

export interface ViewerSample {
  /** When the page was read: the page's own unskewed clock, checked against this process's. */
  at: number;
  /** How long reading took from here (ms). */
  readMs: number;
  /** How far the page's reading time fell outside this process's round trip (ms; 0 when inside). */
  clockOutsideMs: number;
  /** When the video last stalled (real time, ms), if `recordStalls` is on and it did. */
  lastStallAt: number | null;
  currentTime: number;
  paused: boolean;
  playbackRate: number;
  revision: number | null;
}

export interface Sample {
  state: StateWire;
  viewers: ViewerSample[];
}

/** The page's party state, if it has one. */
export async function partyState(page: Page): Promise<StateWire | null> {
  return page.evaluate(() => (window.__mydrtvParty?.state() as StateWire | null | undefined) ?? null);
}

export async function followerStats(page: Page): Promise<FollowerStatsWire> {
  return page.evaluate(() => {
    const probe = window.__mydrtvParty;
    if (!probe) throw new Error('no party player on this page');
    return probe.stats() as FollowerStatsWire;
  });
}

async function readViewer(page: Page): Promise<ViewerSample & { state: StateWire | null }> {
  const before = Date.now();
  const read = await page.evaluate(() => {
    const video = document.querySelector<HTMLVideoElement>('video[data-testid="party-video"]');
    const state = (window.__mydrtvParty?.state() ?? null) as StateWire | null;
    const trueNow = (window as unknown as { __trueNow?: () => number }).__trueNow;
    return {
      now: trueNow ? trueNow() : performance.timeOrigin + performance.now(),
      lastStall: (window as unknown as { __lastStall?: number | null }).__lastStall ?? null,
      currentTime: video?.currentTime ?? Number.NaN,
      paused: video?.paused ?? true,
      playbackRate: video?.playbackRate ?? Number.NaN,
      state,
    };
  });
  const after = Date.now();
  // Date.now has whole milliseconds: allow one either side.
  const outside = Math.max(0, before - 1 - read.now, read.now - (after + 1));
  return {
    at: read.now,
    readMs: after - before,
    clockOutsideMs: outside,
    lastStallAt: read.lastStall,
    currentTime: read.currentTime,
    paused: read.paused,
    playbackRate: read.playbackRate,
    revision: read.state?.revision ?? null,
    state: read.state,
  };
}

/** Read every viewer at once; the state is the newest any of them holds. */
export async function sample(pages: Page[]): Promise<Sample | null> {
  const reads = await Promise.all(pages.map(readViewer));
  let state: StateWire | null = null;
  for (const read of reads)
    if (read.state && (!state || read.state.revision > state.revision)) state = read.state;
  if (!state) return null;
  const viewers = reads.map((read): ViewerSample => {
    const { state: _state, ...viewer } = read; // eslint-disable-line @typescript-eslint/no-unused-vars
    return viewer;
  });
  return { state, viewers };
}

/** A viewer's error against the party (ms, positive: ahead), at the moment it was read. */
export function errorMs(state: StateWire, viewer: ViewerSample): number {
  return (viewer.currentTime - positionAt(state.playback, viewer.at)) * 1000;
}

/**
 * Sample `pages` every `everyMs` until `until()` says stop; each sample waits for the previous
 * one, so a slow read delays the next rather than piling up.
 */
export async function sampleWhile(pages: Page[], everyMs: number, durationMs: number): Promise<Sample[]> {
  const samples: Sample[] = [];
  const end = Date.now() + durationMs;
  let next = Date.now();
  while (Date.now() < end) {
    const taken = await sample(pages);
    if (taken) samples.push(taken);
    next += everyMs;
    const wait = next - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
  return samples;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

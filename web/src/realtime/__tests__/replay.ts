/**
 * A fake socket that plays the server's side of a recorded conversation (fixtures recorded from
 * the real server by web/scripts/record_realtime_frames.py). Each frame the client sends must
 * match the next recorded one (type and fields, ids aside); the recorded answers then follow,
 * each in its own task, with their ids rewritten to the client's.
 */

import type { SocketFactory, SocketHandlers, SocketLike } from '../client';

export interface RecordedFrame {
  dir: 'send' | 'recv';
  /** Milliseconds since the recording started. */
  at_ms: number;
  /** The recorder's wall clock, set 1234.5 ms behind the server's, when it sent or had received the frame. */
  client_ms: number;
  frame: Record<string, unknown>;
}

export interface Fixture {
  scenario: string;
  description: string;
  frames: RecordedFrame[];
  close: { code: number; reason: string } | null;
}

/** Answers are paced as recorded, but never held back longer than this (ms). */
const MAX_PACE_MS = 50;

/** Fields the client chooses or measures for itself: not compared. */
const OWN_FIELDS = new Set(['id', 'client_sent', 'rtt_ms']);

export interface ReplayOptions {
  /** Deliver every recorded answer after the first frame, whatever the client sends (terminal cases). */
  ignoreSends?: boolean;
}

export class ReplaySocket implements SocketLike {
  readonly sent: Array<Record<string, unknown>> = [];
  readonly mismatches: string[] = [];
  closedByClient: { code: number | undefined; reason: string | undefined } | null = null;
  private cursor = 0;
  private ids = new Map<number, number>();
  private clientSent = new Map<number, unknown>();
  private queue: Array<{ step: () => void; due: number }> = [];
  /** When the last client frame was sent, here and in the recording, to pace the answers as recorded. */
  private sentAt = { real: 0, recorded: 0 };
  private flushing = false;
  private closed = false;

  constructor(
    readonly fixture: Fixture,
    private readonly handlers: SocketHandlers,
    private readonly options: ReplayOptions = {},
  ) {
    this.later(() => handlers.open());
  }

  /** True once every recorded frame was sent or delivered. */
  get finished(): boolean {
    return this.cursor >= this.fixture.frames.length;
  }

  send(data: string): void {
    const frame = JSON.parse(data) as Record<string, unknown>;
    this.sent.push(frame);
    if (this.closed) return;
    this.sentAt = { real: performance.now(), recorded: this.fixture.frames[this.cursor]?.at_ms ?? 0 };
    if (this.options.ignoreSends) {
      if (this.cursor === 0) this.cursor = 1;
      this.deliverUntilNextSend();
      return;
    }
    const expected = this.fixture.frames[this.cursor];
    if (!expected || expected.dir !== 'send') {
      this.mismatches.push(`unexpected ${data} at frame ${this.cursor}`);
      return;
    }
    const problem = compare(expected.frame, frame);
    if (problem) this.mismatches.push(`frame ${this.cursor}: ${problem}`);
    if (typeof expected.frame.id === 'number' && typeof frame.id === 'number') {
      this.ids.set(expected.frame.id, frame.id);
      this.clientSent.set(frame.id, frame.client_sent);
    }
    this.cursor += 1;
    this.deliverUntilNextSend();
  }

  close(code?: number, reason?: string): void {
    if (this.closed) return;
    this.closed = true;
    this.closedByClient = { code, reason };
    this.later(() => this.handlers.close(code ?? 1005, reason ?? ''));
  }

  /** The network drops the connection (no close frame: 1006). */
  drop(code = 1006): void {
    if (this.closed) return;
    this.closed = true;
    this.later(() => this.handlers.close(code, ''));
  }

  private deliverUntilNextSend(): void {
    while (this.cursor < this.fixture.frames.length) {
      const next = this.fixture.frames[this.cursor] as RecordedFrame;
      if (next.dir === 'send') return;
      this.cursor += 1;
      const frame = this.rewrite(next.frame);
      const after = Math.min(MAX_PACE_MS, Math.max(0, next.at_ms - this.sentAt.recorded));
      this.later(() => {
        if (!this.closed) this.handlers.message(JSON.stringify(frame));
      }, this.sentAt.real + after);
    }
    const close = this.fixture.close;
    if (close && close.code !== 1000) {
      this.later(() => {
        if (this.closed) return;
        this.closed = true;
        this.handlers.close(close.code, close.reason);
      });
    }
  }

  private rewrite(frame: Record<string, unknown>): Record<string, unknown> {
    if (typeof frame.id !== 'number') return frame;
    const id = this.ids.get(frame.id) ?? frame.id;
    const copy: Record<string, unknown> = { ...frame, id };
    if (frame.type === 'time_synced') copy.client_sent = this.clientSent.get(id);
    return copy;
  }

  /**
   * Each step in its own task, as a browser delivers websocket events, and not before `due`
   * (`performance.now()` time): answers keep the pace they were recorded at, so a round trip seen
   * by the client is never shorter than the server's own time in it.
   */
  private later(step: () => void, due = 0): void {
    this.queue.push({ step, due });
    if (this.flushing) return;
    this.flushing = true;
    const run = (): void => {
      const next = this.queue[0];
      if (!next) {
        this.flushing = false;
        return;
      }
      const wait = next.due - performance.now();
      if (wait > 0) {
        setTimeout(run, wait);
        return;
      }
      this.queue.shift();
      next.step();
      setTimeout(run, 0);
    };
    setTimeout(run, 0);
  }
}

/** Differences between a recorded client frame and the one sent, ignoring the client's own fields. */
export function compare(expected: Record<string, unknown>, actual: Record<string, unknown>): string | null {
  const keys = new Set([...Object.keys(expected), ...Object.keys(actual)]);
  for (const key of keys) {
    if (OWN_FIELDS.has(key)) continue;
    if (JSON.stringify(expected[key]) !== JSON.stringify(actual[key])) {
      return `${key}: expected ${JSON.stringify(expected[key])}, sent ${JSON.stringify(actual[key])}`;
    }
  }
  return null;
}

/** A socket factory handing out one replay per connection attempt, in order. */
export function replays(
  fixtures: Fixture[],
  options: ReplayOptions = {},
): { factory: SocketFactory; sockets: ReplaySocket[] } {
  const sockets: ReplaySocket[] = [];
  const factory: SocketFactory = (_url, handlers) => {
    const fixture = fixtures[sockets.length];
    if (!fixture) throw new Error(`no recording left for connection ${sockets.length + 1}`);
    const socket = new ReplaySocket(fixture, handlers, options);
    sockets.push(socket);
    return socket;
  };
  return { factory, sockets };
}

/** The recorded frames a client sends, in order (for fixtures that script a whole exchange). */
export function sends(fixture: Fixture): Array<Record<string, unknown>> {
  return fixture.frames.filter((frame) => frame.dir === 'send').map((frame) => frame.frame);
}

/** The recorded frames the server sent, in order. */
export function receives(fixture: Fixture): Array<Record<string, unknown>> {
  return fixture.frames.filter((frame) => frame.dir === 'recv').map((frame) => frame.frame);
}

/**
 * The server's clock, estimated from `time_sync` exchanges exactly as docs/protocol.md
 * ("Clock sync") says: each exchange bounds `offset = server − client` between `t3 − t4` and
 * `t2 − t1`; the tightest bounds of a window of recent exchanges give the offset.
 */

export interface Exchange {
  /** Client clock when `time_sync` was sent (ms). */
  t1: number;
  /** Server clock when it arrived (`server_received`). */
  t2: number;
  /** Server clock when the answer left (`server_sent`). */
  t3: number;
  /** Client clock when `time_synced` arrived. */
  t4: number;
}

export interface ClockEstimate {
  /** `server clock − client clock`, in ms. */
  offset: number;
  /** How far off the offset may be (half the width of the bounds), or null for the NTP fallback. */
  error: number | null;
  /** Exchanges the estimate is made from. */
  samples: number;
}

export interface ClockWindowOptions {
  size: number;
  maxAgeMs: number;
}

export const CLOCK_WINDOW: ClockWindowOptions = { size: 32, maxAgeMs: 30000 };

export function roundTrip(e: Exchange): number {
  return e.t4 - e.t1 - (e.t3 - e.t2);
}

export class ClockWindow {
  private exchanges: Exchange[] = [];

  constructor(private readonly options: ClockWindowOptions = CLOCK_WINDOW) {}

  /** Add an exchange (ignored when its delay is negative: a clock moved under it). */
  add(exchange: Exchange): void {
    if (roundTrip(exchange) < 0) return;
    this.exchanges.push(exchange);
    this.prune(exchange.t4);
  }

  /** Start again, as after a reconnect (another instance's clock may differ a little). */
  reset(): void {
    this.exchanges = [];
  }

  get size(): number {
    return this.exchanges.length;
  }

  /** Drop exchanges older than the window's age as of client time `now`, and all past its size. */
  prune(now: number): void {
    this.exchanges = this.exchanges.filter((e) => now - e.t4 <= this.options.maxAgeMs);
    if (this.exchanges.length > this.options.size) {
      this.exchanges = this.exchanges.slice(this.exchanges.length - this.options.size);
    }
  }

  /** The offset estimate, or null before the first exchange. */
  estimate(): ClockEstimate | null {
    const window = this.exchanges;
    if (window.length === 0) return null;
    let low = -Infinity;
    let high = Infinity;
    for (const e of window) {
      low = Math.max(low, e.t3 - e.t4);
      high = Math.min(high, e.t2 - e.t1);
    }
    if (low <= high) return { offset: (low + high) / 2, error: (high - low) / 2, samples: window.length };
    // A clock was stepped: the NTP estimate of the exchange with the smallest delay.
    let best = window[0] as Exchange;
    for (const e of window) if (roundTrip(e) < roundTrip(best)) best = e;
    return { offset: (best.t2 - best.t1 + (best.t3 - best.t4)) / 2, error: null, samples: window.length };
  }

  /** The 90th percentile of the window's round trips (for `party_status.rtt_ms`), or null. */
  rttP90(): number | null {
    if (this.exchanges.length === 0) return null;
    const delays = this.exchanges.map(roundTrip).sort((a, b) => a - b);
    const index = Math.min(delays.length - 1, Math.ceil(0.9 * delays.length) - 1);
    return delays[index] ?? null;
  }
}

/** The clock the protocol recommends in a browser: monotonic, with a fixed origin. */
export function browserClock(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Reconnect delays (docs/protocol.md, "Reconnecting and recovering"): a base that doubles after
 * every failed attempt, from 1 s up to 30 s, times a random factor between 0.5 and 1.5 so that
 * thousands of clients do not come back in the same instant.
 */

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  /** Delay for codes that say "reconnect at once" (4001): a little jitter only. */
  immediateMaxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 1000, maxMs: 30000, immediateMaxMs: 250 };

/** The delay before attempt `attempt` (0 for the first retry), with `random()` in [0, 1). */
export function backoffDelay(
  attempt: number,
  random: () => number,
  options: BackoffOptions = DEFAULT_BACKOFF,
  immediate = false,
): number {
  if (immediate) return random() * options.immediateMaxMs;
  const base = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, attempt));
  return base * (0.5 + random());
}

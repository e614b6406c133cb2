/** Promises for events, so tests await what happens instead of sleeping. */

import type { Emitter } from '../emitter';

/** The next `name` event whose value passes `test` (rejects after `withinMs`, so a regression fails). */
export function next<E extends { [K in keyof E]: unknown }, K extends keyof E>(
  source: Emitter<E>,
  name: K,
  test: (value: E[K]) => boolean = () => true,
  withinMs = 2000,
): Promise<E[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no ${String(name)} event within ${withinMs} ms`));
    }, withinMs);
    const off = source.on(name, (value) => {
      if (!test(value)) return;
      clearTimeout(timer);
      off();
      resolve(value);
    });
  });
}

/** Every `name` event from now on, in an array. */
export function collect<E extends { [K in keyof E]: unknown }, K extends keyof E>(
  source: Emitter<E>,
  name: K,
): E[K][] {
  const values: E[K][] = [];
  source.on(name, (value) => values.push(value));
  return values;
}

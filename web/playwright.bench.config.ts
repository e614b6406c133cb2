import { defineConfig } from '@playwright/test';
import base from './playwright.config';

/**
 * The browser benchmark of watch-party sync (`python -m bench.party_browser` runs it): the same
 * Chromium and the same real server as the end-to-end tests, but only `*.bench.ts` files, with
 * room for two two-minute runs.
 */
export default defineConfig({
  ...base,
  testMatch: '**/*.bench.ts',
  timeout: 20 * 60_000,
});

/** Screenshots of every page, kept under test-results/screenshots/ (git-ignored) on every run. */
import { resolve } from 'node:path';
import type { Page } from '@playwright/test';
import { WEB_DIR } from './env';

export const SCREENSHOT_DIR = resolve(WEB_DIR, 'test-results/screenshots');

/** A full-page screenshot named `<name>.png`; also one at phone width (375 px) as `<name>-phone.png`. */
export async function screenshot(page: Page, name: string, { phone = true } = {}): Promise<void> {
  await page.screenshot({ path: resolve(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
  if (!phone) return;
  const size = page.viewportSize();
  await page.setViewportSize({ width: 375, height: 812 });
  await page.screenshot({ path: resolve(SCREENSHOT_DIR, `${name}-phone.png`), fullPage: true });
  if (size) await page.setViewportSize(size);
}

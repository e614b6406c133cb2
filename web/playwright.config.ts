import { defineConfig, devices } from '@playwright/test';
import { BASE_URL, MYDRTV, REPO_DIR, SERVER_ENV } from './e2e/support/env';

/**
 * End-to-end tests in the machine's Chromium (Debian's `chromium` package; Playwright's own
 * download cannot work here) against a real server: `mydrtv dev` on the embedded stack, serving
 * the client built just before. SIGTERM at the end lets it stop PostgreSQL and Redis.
 */
export default defineConfig({
  testDir: './e2e',
  outputDir: './test-results/artifacts',
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env['CI'],
  retries: 0,
  timeout: 60_000,
  reporter: [['list']],
  use: {
    baseURL: BASE_URL,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  projects: [{ name: 'chromium', use: { ...devices['Desktop Chrome'] } }],
  webServer: {
    command: `npm --prefix web run build && exec ${MYDRTV.join(' ')} dev`,
    cwd: REPO_DIR,
    url: `${BASE_URL}/health/ready`,
    env: { ...SERVER_ENV },
    timeout: 240_000, // the first run makes the demo videos with ffmpeg before serving
    reuseExistingServer: process.env['E2E_REUSE'] === '1',
    gracefulShutdown: { signal: 'SIGTERM', timeout: 20_000 },
    stdout: 'ignore',
    stderr: 'pipe',
  },
});

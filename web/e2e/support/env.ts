/**
 * Where the end-to-end server runs: its own port, data directory and embedded PostgreSQL and
 * Redis ports, so it never meets a developer's `make run` (8000, 54329, 56379) or the pytest
 * suite (random free ports). Override with E2E_PORT, E2E_PG_PORT, E2E_REDIS_PORT, E2E_DATA_DIR.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const WEB_DIR = resolve(fileURLToPath(import.meta.url), '../../..');
export const REPO_DIR = resolve(WEB_DIR, '..');
export const PORT = Number(process.env['E2E_PORT'] ?? 8731);
export const BASE_URL = `http://127.0.0.1:${PORT}`;
/** The project's CLI, run as a module from the checkout so this checkout's code is what runs
 * (the venv may hold an editable install of another checkout). */
export const PYTHON = resolve(REPO_DIR, '.venv/bin/python');
export const MYDRTV = [PYTHON, '-m', 'server.cli'] as const;

/** The settings of the server under test; commands like create-admin need the same ones. */
export const SERVER_ENV: Record<string, string> = {
  MYDRTV_PORT: String(PORT),
  MYDRTV_DATA_DIR: process.env['E2E_DATA_DIR'] ?? resolve(REPO_DIR, '.data-e2e'),
  MYDRTV_EMBEDDED_POSTGRES_PORT: process.env['E2E_PG_PORT'] ?? '54339',
  MYDRTV_EMBEDDED_REDIS_PORT: process.env['E2E_REDIS_PORT'] ?? '56389',
  MYDRTV_WEB_DIST_DIR: resolve(WEB_DIR, 'dist'),
  // Every spec signs up and signs in fresh users from one address.
  MYDRTV_REGISTER_LIMIT_PER_ADDRESS: '10000/hour',
  MYDRTV_LOGIN_LIMIT_PER_ACCOUNT: '1000/minute',
  MYDRTV_LOGIN_LIMIT_PER_ADDRESS: '10000/minute',
  MYDRTV_LOG_LEVEL: 'WARNING',
};

/** Admins and moderators: an admin from the project's own CLI, moderators granted by that admin. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, type APIRequestContext } from '@playwright/test';
import { MYDRTV, REPO_DIR, SERVER_ENV } from './env';
import { newUser, signUpViaApi, tokensFor, type TestUser } from './users';

const run = promisify(execFile);

/** A new admin, made by `mydrtv create-admin` on the server's own databases. */
export async function createAdmin(request: APIRequestContext): Promise<TestUser> {
  const user = newUser('admin');
  const [python, ...module] = MYDRTV;
  const { stdout } = await run(
    python,
    [...module, 'create-admin', '--email', user.email, '--handle', user.handle],
    {
      cwd: REPO_DIR,
      env: { ...process.env, ...SERVER_ENV, MYDRTV_ADMIN_PASSWORD: user.password },
    },
  );
  const id = /\(([0-9a-f-]{36})\)/.exec(stdout)?.[1];
  expect(id, stdout).toBeTruthy();
  return { ...user, id, ...(await tokensFor(request, user)) };
}

/** A new user with the given role, granted by a new admin. */
export async function createStaff(
  request: APIRequestContext,
  role: 'moderator' | 'admin',
): Promise<TestUser> {
  if (role === 'admin') return createAdmin(request);
  const admin = await createAdmin(request);
  const user = await signUpViaApi(request, newUser('mod'));
  const granted = await request.put(`/users/${user.id}/role`, {
    data: { role },
    headers: { authorization: `Bearer ${admin.accessToken}` },
  });
  expect(granted.status(), await granted.text()).toBe(200);
  return { ...user, ...(await tokensFor(request, user)) }; // a token that carries the new role
}

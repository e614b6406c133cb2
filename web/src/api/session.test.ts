import { beforeEach, describe, expect, it } from 'vitest';
import { ApiClient } from './client';
import { ApiError } from './errors';
import { ACCESS_KEY, REFRESH_EARLY_MS, REFRESH_KEY, Session } from './session';

/** A tiny token server that rotates refresh tokens the way the real one does (reuse is refused). */
class TokenServer {
  private serial = 0;
  live = new Set<string>();
  expired = new Set<string>();
  tokenRequests: string[] = [];
  calls: { path: string; authorization: string | null }[] = [];

  fetch: typeof fetch = async (input, init) => {
    const path = String(input);
    const headers = new Headers(init?.headers);
    if (path === '/auth/token') {
      const form = new URLSearchParams(String(init?.body));
      this.tokenRequests.push(form.get('grant_type') ?? '');
      if (form.get('grant_type') === 'password') {
        return form.get('password') === 'right' ? this.issue() : this.error(401, 'invalid_grant');
      }
      const presented = form.get('refresh_token') ?? '';
      if (!this.live.delete(presented)) return this.error(401, 'invalid_grant');
      return this.issue();
    }
    if (path === '/auth/revoke') return new Response(null, { status: 200 });
    const authorization = headers.get('authorization');
    this.calls.push({ path, authorization });
    const token = authorization?.replace('Bearer ', '') ?? '';
    if (this.expired.has(token)) return this.error(401, 'token_expired');
    return new Response(JSON.stringify({ ok: true, token }), {
      status: 200,
      headers: { 'content-type': 'application/json' },
    });
  };

  private issue(): Response {
    this.serial += 1;
    const refresh = `refresh-${this.serial}`;
    this.live.add(refresh);
    const body = {
      access_token: `access-${this.serial}`,
      token_type: 'Bearer',
      expires_in: 900,
      refresh_token: refresh,
    };
    return new Response(JSON.stringify(body), {
      status: 200,
      headers: { 'content-type': 'application/json' },
    });
  }

  private error(status: number, code: string): Response {
    return new Response(JSON.stringify({ error: code, message: code }), {
      status,
      headers: { 'content-type': 'application/json' },
    });
  }
}

class MemoryStorage {
  private items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
  removeItem(key: string): void {
    this.items.delete(key);
  }
}

describe('Session', () => {
  let server: TokenServer;
  let storage: MemoryStorage;
  let tabStorage: MemoryStorage;
  let clock: number;
  let session: Session;
  let client: ApiClient;

  beforeEach(() => {
    server = new TokenServer();
    storage = new MemoryStorage();
    tabStorage = new MemoryStorage();
    clock = 1_000_000;
    session = new Session({ fetch: server.fetch, storage, tabStorage, now: () => clock });
    client = new ApiClient(session, server.fetch);
  });

  it('keeps the refresh token in storage, and announces sign-in and sign-out', async () => {
    const seen: boolean[] = [];
    session.onChange((signedIn) => seen.push(signedIn));
    await session.signIn('a@example.com', 'right');
    expect(storage.getItem(REFRESH_KEY)).toBe('refresh-1');
    expect(await session.accessToken()).toBe('access-1');
    await session.signOut();
    expect(storage.getItem(REFRESH_KEY)).toBeNull();
    expect(tabStorage.getItem(ACCESS_KEY)).toBeNull();
    expect(await session.accessToken()).toBeNull();
    expect(seen).toEqual([true, false]);
  });

  it('refuses a wrong password with the API reason', async () => {
    await expect(session.signIn('a@example.com', 'wrong')).rejects.toMatchObject({ code: 'invalid_grant' });
    expect(session.signedIn).toBe(false);
  });

  it('refreshes before the access token expires, rotating the refresh token', async () => {
    await session.signIn('a@example.com', 'right');
    clock += 900_000 - REFRESH_EARLY_MS + 1;
    expect(await session.accessToken()).toBe('access-2');
    expect(storage.getItem(REFRESH_KEY)).toBe('refresh-2');
    expect(server.live.has('refresh-1')).toBe(false);
  });

  it('shares one refresh between concurrent requests (a second would reuse a rotated token)', async () => {
    storage.setItem(REFRESH_KEY, 'refresh-0');
    server.live.add('refresh-0');
    const results = await Promise.all([client.get('/me'), client.get('/me'), client.get('/me')]);
    expect(server.tokenRequests).toEqual(['refresh_token']);
    expect(results).toEqual(Array(3).fill({ ok: true, token: 'access-1' }));
  });

  it('refreshes once and retries on 401 token_expired', async () => {
    await session.signIn('a@example.com', 'right');
    server.expired.add('access-1');
    expect(await client.get('/me')).toEqual({ ok: true, token: 'access-2' });
    expect(server.calls.map((c) => c.authorization)).toEqual(['Bearer access-1', 'Bearer access-2']);
  });

  it('ends the session when the refresh token is refused', async () => {
    storage.setItem(REFRESH_KEY, 'stolen-and-rotated');
    await expect(client.get('/me')).rejects.toBeInstanceOf(ApiError);
    expect(session.signedIn).toBe(false);
  });

  it('refuses a required-auth call without a session before sending it', async () => {
    await expect(client.get('/me', { auth: 'required' })).rejects.toMatchObject({ code: 'unauthenticated' });
    expect(server.calls).toEqual([]);
  });

  it('takes turns with other tabs, so no tab presents a refresh token another just rotated', async () => {
    let queue = Promise.resolve();
    const exclusive = <T>(task: () => Promise<T>): Promise<T> => {
      const run = queue.then(task);
      queue = run.then(
        () => undefined,
        () => undefined,
      );
      return run;
    };
    const tabs = [1, 2].map(
      () =>
        new Session({
          fetch: server.fetch,
          storage,
          tabStorage: new MemoryStorage(),
          now: () => clock,
          exclusive,
        }),
    );
    storage.setItem(REFRESH_KEY, 'refresh-0');
    server.live.add('refresh-0');
    const tokens = await Promise.all(tabs.map((tab) => tab.accessToken()));
    expect(tokens).toEqual(['access-1', 'access-2']);
    expect(storage.getItem(REFRESH_KEY)).toBe('refresh-2');
    expect(tabs.every((tab) => tab.signedIn)).toBe(true);
  });

  it('a reload keeps using the access token while it is valid, without rotating', async () => {
    await session.signIn('a@example.com', 'right');
    const reloaded = () => new Session({ fetch: server.fetch, storage, tabStorage, now: () => clock });
    expect(await reloaded().accessToken()).toBe('access-1');
    expect(server.tokenRequests).toEqual(['password']);
    expect(storage.getItem(REFRESH_KEY)).toBe('refresh-1');

    // Once it is about to expire, a reload refreshes as before.
    clock += 900_000 - REFRESH_EARLY_MS + 1;
    expect(await reloaded().accessToken()).toBe('access-2');
    expect(server.tokenRequests).toEqual(['password', 'refresh_token']);
  });

  it('a reload signed out elsewhere, or with a damaged kept token, does not use it', async () => {
    await session.signIn('a@example.com', 'right');
    const reloaded = () => new Session({ fetch: server.fetch, storage, tabStorage, now: () => clock });
    tabStorage.setItem(ACCESS_KEY, '{not json');
    expect(await reloaded().accessToken()).toBe('access-2');
    tabStorage.setItem(ACCESS_KEY, JSON.stringify({ token: 7 }));
    expect(await reloaded().accessToken()).toBe('access-3');
    storage.removeItem(REFRESH_KEY); // another tab signed out
    expect(await reloaded().accessToken()).toBeNull();
  });
});

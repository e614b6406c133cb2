/**
 * The signed-in session: the refresh token lives in localStorage so a reload stays signed in,
 * the access token in memory and in this tab's sessionStorage, so a reload uses it while it is
 * valid instead of rotating the refresh token on every page load (a reload cutting a rotation
 * short would otherwise be frequent). Refresh tokens rotate: each refresh returns a new
 * one and the old one stops working (a reused one ends the whole login), so concurrent refreshes
 * share one request, and tabs of one browser take turns through a Web Lock: each reads the
 * refresh token only once it holds the lock, so none presents one another tab just rotated.
 */
import { ApiError, errorFrom } from './errors';
import type { components } from './schema';

export type TokenResponse = components['schemas']['TokenResponse'];

export const REFRESH_KEY = 'mydrtv.refresh_token';
/** sessionStorage: this tab's access token and when it expires (ms since the epoch). */
export const ACCESS_KEY = 'mydrtv.access_token';
/** Refresh this long before the access token expires, so requests never carry a stale one. */
export const REFRESH_EARLY_MS = 60_000;

export interface SessionOptions {
  fetch?: typeof fetch;
  storage?: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;
  /** Where this tab keeps its access token across reloads; the default is sessionStorage. */
  tabStorage?: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;
  now?: () => number;
  base?: string;
  /** Runs `task` alone among every tab of this browser; the default uses navigator.locks. */
  exclusive?: <T>(task: () => Promise<T>) => Promise<T>;
}

const LOCK_NAME = 'mydrtv.refresh';

function browserLock<T>(task: () => Promise<T>): Promise<T> {
  const locks = globalThis.navigator?.locks;
  if (!locks) return task();
  // The lock is held until the task's promise settles; request() resolves with its value.
  return locks.request(LOCK_NAME, () => task()) as unknown as Promise<T>;
}

type Listener = (signedIn: boolean) => void;

export class Session {
  private access: string | null = null;
  private expiresAt = 0;
  private refreshing: Promise<string | null> | null = null;
  private readonly listeners = new Set<Listener>();
  private readonly fetch: typeof fetch;
  private readonly storage: NonNullable<SessionOptions['storage']>;
  private readonly tabStorage: NonNullable<SessionOptions['tabStorage']>;
  private readonly now: () => number;
  private readonly base: string;
  private readonly exclusive: <T>(task: () => Promise<T>) => Promise<T>;

  constructor(options: SessionOptions = {}) {
    this.fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.storage = options.storage ?? globalThis.localStorage;
    this.tabStorage = options.tabStorage ?? globalThis.sessionStorage;
    this.now = options.now ?? Date.now;
    this.base = options.base ?? '';
    this.exclusive = options.exclusive ?? browserLock;
    // Another tab signed in or out: follow it, so every tab shows the same state.
    globalThis.addEventListener?.('storage', (event) => {
      if (event.key !== REFRESH_KEY && event.key !== null) return;
      if (event.newValue === null) this.forgetAccess();
      this.emit(this.signedIn);
    });
  }

  /** Whether a refresh token is kept (the access token may still need fetching). */
  get signedIn(): boolean {
    return this.storage.getItem(REFRESH_KEY) !== null;
  }

  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async signIn(email: string, password: string): Promise<void> {
    const tokens = await this.tokenRequest({ grant_type: 'password', username: email, password });
    this.store(tokens);
  }

  async signOut(): Promise<void> {
    const refresh = this.storage.getItem(REFRESH_KEY);
    this.clear();
    if (refresh !== null) {
      // Revoking is best effort: the tokens are gone from this browser either way.
      await this.fetch(`${this.base}/auth/revoke`, {
        method: 'POST',
        body: new URLSearchParams({ token: refresh }),
      }).catch(() => undefined);
    }
  }

  /** A valid access token, refreshed first when it is missing or about to expire; null when signed out. */
  async accessToken(): Promise<string | null> {
    if (this.access === null && this.signedIn) this.restoreAccess();
    if (this.access !== null && this.now() < this.expiresAt - REFRESH_EARLY_MS) return this.access;
    if (!this.signedIn) return null;
    return this.refresh();
  }

  /** Rotate the refresh token for a new access token; concurrent callers share one request. */
  refresh(): Promise<string | null> {
    this.refreshing ??= this.exclusive(() => this.rotate()).finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async rotate(): Promise<string | null> {
    const refresh = this.storage.getItem(REFRESH_KEY);
    if (refresh === null) return null;
    try {
      const tokens = await this.tokenRequest({ grant_type: 'refresh_token', refresh_token: refresh });
      this.store(tokens);
      return tokens.access_token;
    } catch (error) {
      // A refused refresh token (revoked, expired, reused) ends the session; a network error does not.
      if (error instanceof ApiError && error.status >= 400 && error.status < 500) this.clear();
      throw error;
    }
  }

  private async tokenRequest(form: Record<string, string>): Promise<TokenResponse> {
    let response: Response;
    try {
      response = await this.fetch(`${this.base}/auth/token`, {
        method: 'POST',
        body: new URLSearchParams(form),
      });
    } catch {
      throw new ApiError(0, 'network', 'the server could not be reached');
    }
    if (!response.ok) throw await errorFrom(response);
    return (await response.json()) as TokenResponse;
  }

  private store(tokens: TokenResponse): void {
    const wasSignedIn = this.signedIn;
    this.access = tokens.access_token;
    this.expiresAt = this.now() + tokens.expires_in * 1000;
    this.storage.setItem(REFRESH_KEY, tokens.refresh_token);
    this.tabStorage.setItem(ACCESS_KEY, JSON.stringify({ token: this.access, expiresAt: this.expiresAt }));
    if (!wasSignedIn) this.emit(true);
  }

  /** The access token this tab held before a reload, if it kept one. */
  private restoreAccess(): void {
    try {
      const kept = JSON.parse(this.tabStorage.getItem(ACCESS_KEY) ?? 'null') as unknown;
      if (typeof kept !== 'object' || kept === null) return;
      const { token, expiresAt } = kept as Record<string, unknown>;
      if (typeof token !== 'string' || typeof expiresAt !== 'number') return;
      this.access = token;
      this.expiresAt = expiresAt;
    } catch {
      // Not ours or damaged: refresh instead.
    }
  }

  private forgetAccess(): void {
    this.access = null;
    this.expiresAt = 0;
    this.tabStorage.removeItem(ACCESS_KEY);
  }

  private clear(): void {
    const wasSignedIn = this.signedIn;
    this.forgetAccess();
    this.storage.removeItem(REFRESH_KEY);
    if (wasSignedIn) this.emit(false);
  }

  private emit(signedIn: boolean): void {
    for (const listener of this.listeners) listener(signedIn);
  }
}

/**
 * The typed fetch wrapper every page uses: JSON in and out, the bearer token from the session
 * (refreshed before expiry, and once more on a 401 `token_expired`), errors as ApiError.
 * Types come from the generated `schema.d.ts`: `Schemas['Video']` and so on.
 */
import { ApiError, errorFrom } from './errors';
import type { components, paths } from './schema';
import { Session } from './session';

export type Schemas = components['schemas'];
export type ApiPath = keyof paths;

export interface RequestOptions {
  /** JSON-encoded unless it is already a body fetch understands (form data, a Blob, ...). */
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined>;
  /** 'required' fails without a session; 'optional' (default) sends a token when there is one. */
  auth?: 'required' | 'optional' | 'none';
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

function isRawBody(body: unknown): body is BodyInit {
  return (
    body instanceof FormData ||
    body instanceof URLSearchParams ||
    body instanceof Blob ||
    body instanceof ArrayBuffer ||
    typeof body === 'string'
  );
}

export class ApiClient {
  constructor(
    readonly session: Session,
    private readonly fetcher: typeof fetch = (input, init) => globalThis.fetch(input, init),
    private readonly base = '',
  ) {}

  get<T>(path: string, options: RequestOptions = {}): Promise<T> {
    return this.request<T>('GET', path, options);
  }
  post<T>(path: string, body?: unknown, options: RequestOptions = {}): Promise<T> {
    return this.request<T>('POST', path, { ...options, body });
  }
  put<T>(path: string, body?: unknown, options: RequestOptions = {}): Promise<T> {
    return this.request<T>('PUT', path, { ...options, body });
  }
  patch<T>(path: string, body?: unknown, options: RequestOptions = {}): Promise<T> {
    return this.request<T>('PATCH', path, { ...options, body });
  }
  delete<T = void>(path: string, options: RequestOptions = {}): Promise<T> {
    return this.request<T>('DELETE', path, options);
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const auth = options.auth ?? 'optional';
    let token = auth === 'none' ? null : await this.session.accessToken();
    if (auth === 'required' && token === null) {
      throw new ApiError(401, 'unauthenticated', 'sign in first');
    }
    let response = await this.send(method, path, options, token);
    if (response.status === 401 && token !== null) {
      const refused = await errorFrom(response.clone());
      if (refused.code === 'token_expired') {
        token = await this.session.refresh();
        response = await this.send(method, path, options, token);
      }
    }
    if (!response.ok) throw await errorFrom(response);
    if (response.status === 204 || response.headers.get('content-length') === '0') {
      return undefined as T;
    }
    const type = response.headers.get('content-type') ?? '';
    return (type.includes('json') ? await response.json() : await response.text()) as T;
  }

  private async send(
    method: string,
    path: string,
    options: RequestOptions,
    token: string | null,
  ): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (token !== null) headers['authorization'] = `Bearer ${token}`;
    let body: BodyInit | undefined;
    if (options.body !== undefined) {
      if (isRawBody(options.body)) {
        body = options.body;
      } else {
        body = JSON.stringify(options.body);
        headers['content-type'] = 'application/json';
      }
    }
    const url = new URL(this.base + path, globalThis.location?.origin ?? 'http://localhost');
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const init: RequestInit = { method, headers };
    if (body !== undefined) init.body = body;
    if (options.signal) init.signal = options.signal;
    try {
      return await this.fetcher(this.base ? url.toString() : url.pathname + url.search, init);
    } catch (error) {
      if (error instanceof DOMException && error.name === 'AbortError') throw error;
      throw new ApiError(0, 'network', 'the server could not be reached');
    }
  }
}

export const session = new Session();
export const api = new ApiClient(session);

/** Register, then sign in with the same credentials. */
export async function signUp(email: string, password: string, handle: string): Promise<void> {
  await api.post('/accounts', { email, password, handle }, { auth: 'none' });
  await session.signIn(email, password);
}

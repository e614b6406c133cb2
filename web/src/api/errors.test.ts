import { describe, expect, it } from 'vitest';
import { ApiError, describeError, errorFrom } from './errors';

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

describe('errorFrom', () => {
  it('reads the API error shape', async () => {
    const error = await errorFrom(
      json(409, { error: 'handle_taken', message: 'handle is taken', details: { field: 'handle' } }),
    );
    expect(error).toBeInstanceOf(ApiError);
    expect([error.status, error.code, error.serverMessage]).toEqual([409, 'handle_taken', 'handle is taken']);
    expect(error.details).toEqual({ field: 'handle' });
  });

  it('copes with a body that is not the error shape', async () => {
    const error = await errorFrom(new Response('<h1>Bad gateway</h1>', { status: 502 }));
    expect([error.status, error.code]).toEqual([502, 'http_502']);
  });
});

describe('describeError', () => {
  it('uses words for a known reason', () => {
    expect(describeError(new ApiError(409, 'email_taken', 'x'))).toMatch(/already exists/);
  });

  it('falls back to the status, then to the server message', () => {
    expect(describeError(new ApiError(429, 'something_new', 'x'))).toMatch(/Too many attempts/);
    expect(describeError(new ApiError(422, 'odd', 'the title is empty'))).toBe('the title is empty');
    expect(describeError(new ApiError(500, 'odd', 'Traceback'))).toMatch(/on our side/);
  });

  it('never shows a raw exception', () => {
    expect(describeError(new TypeError('x is undefined'))).toBe('Something went wrong. Try again.');
  });
});

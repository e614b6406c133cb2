/** The API's one error shape, and words a person understands for each reason. */

export interface ErrorBody {
  error: string;
  message: string;
  details?: unknown;
}

/** A response outside 2xx, or no response at all (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly serverMessage: string,
    readonly details?: unknown,
  ) {
    super(`${status} ${code}: ${serverMessage}`);
    this.name = 'ApiError';
  }
}

const WORDS: Record<string, string> = {
  network: 'The server could not be reached. Check your connection and try again.',
  invalid_grant: 'That email and password do not match an account.',
  unauthenticated: 'Please sign in first.',
  invalid_token: 'Your session is no longer valid. Please sign in again.',
  token_expired: 'Your session has expired. Please sign in again.',
  email_taken: 'An account with this email already exists. Try signing in.',
  handle_taken: 'That handle is taken. Pick another one.',
  invalid_email: 'That email address does not look right.',
  invalid_handle: 'Handles are 3–30 letters, digits or underscores.',
  weak_password: 'Pick a longer password (a passphrase of several words works well).',
  too_young: 'You are not old enough to create an account.',
  invalid_birth_date: 'That birth date does not look right.',
  rate_limited: 'Too many attempts. Wait a moment and try again.',
  forbidden: 'You are not allowed to do that.',
  not_found: 'This could not be found. It may have been deleted.',
  video_not_found: 'This video could not be found. It may be private or deleted.',
  user_not_found: 'This person could not be found.',
  comment_not_found: 'This comment could not be found. It may have been removed.',
  party_not_found: 'This watch party could not be found.',
  party_full: 'This watch party is full.',
  party_ended: 'This watch party has ended.',
  invalid_invite: 'This invite link is not valid any more. Ask the host for a new one.',
  not_host: 'Only the host can do that.',
  not_member: 'Join the party first.',
  not_owner: 'Only the owner can do that.',
  not_author: 'Only the author can do that.',
  edit_window_closed: 'This comment can no longer be edited.',
  comment_too_long: 'This comment is too long.',
  empty_comment: 'Write something first.',
  slow_mode: 'Slow mode is on: wait a little before commenting again.',
  too_fast: 'Slow down a little and try again.',
  blocked_by_user: 'This person has blocked you.',
  user_blocked: 'You have blocked this person. Unblock them first.',
  cannot_follow_self: 'You cannot follow yourself.',
  payload_too_large: 'That is too large.',
  upload_too_large: 'That file is too large to upload.',
  not_a_video: 'That file is not a video we can play.',
  graph_unavailable: 'Suggestions are not available right now.',
};

const BY_STATUS: Record<number, string> = {
  400: 'Something in the request was not right.',
  401: 'Please sign in first.',
  403: 'You are not allowed to do that.',
  404: 'This could not be found.',
  409: 'That conflicts with something that already exists.',
  413: 'That is too large.',
  429: 'Too many attempts. Wait a moment and try again.',
  503: 'The service is busy or down for a moment. Try again shortly.',
};

/** Words for any error a page may catch: API errors by reason, then by status, then generic. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    const words = WORDS[error.code] ?? BY_STATUS[error.status];
    if (words) return words;
    if (error.status >= 500) return 'Something went wrong on our side. Try again shortly.';
    return error.serverMessage || 'Something went wrong.';
  }
  return 'Something went wrong. Try again.';
}

function isErrorBody(value: unknown): value is ErrorBody {
  if (typeof value !== 'object' || value === null) return false;
  const body = value as Record<string, unknown>;
  return typeof body['error'] === 'string' && typeof body['message'] === 'string';
}

/** Turn a non-2xx response into an ApiError, whatever its body. */
export async function errorFrom(response: Response): Promise<ApiError> {
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    // not JSON: a proxy's page, say
  }
  if (isErrorBody(body)) return new ApiError(response.status, body.error, body.message, body.details);
  return new ApiError(response.status, `http_${response.status}`, response.statusText);
}

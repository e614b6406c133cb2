/** Words for what can go wrong in a party: the socket's error codes, then the API's. */
import { describeError } from '../../api/errors';
import { RealtimeError } from '../../realtime';

const WORDS: Record<string, string> = {
  not_host: 'Only the host controls playback in this party.',
  not_member: 'You are not a member of this party any more.',
  not_subscribed: 'Still connecting to the party. Try again in a moment.',
  party_not_found: 'This watch party has ended.',
  stale_version: 'Someone else changed playback at the same time. Try again.',
  seek_out_of_range: 'That is past the end of the video.',
  invalid_position: 'Pick a position from the start of the video on.',
  invalid_rate: 'Pick a speed between 0.25× and 4×.',
  invalid_text: 'Write something first.',
  invalid_characters: 'That message has characters we cannot send.',
  video_not_found: 'That video could not be found. It may be private or deleted.',
  video_hidden_from_members: 'Some members may not see that video.',
  busy: 'The party is busy. Try again.',
  timeout: 'The party did not answer in time. Check your connection and try again.',
  connection_closed: 'The connection to the party dropped. It is coming back.',
  unauthenticated: 'Please sign in first.',
  unavailable: 'Watch parties are not available right now.',
};

export function describePartyError(error: unknown): string {
  if (error instanceof RealtimeError) return WORDS[error.code] ?? error.message;
  return describeError(error);
}

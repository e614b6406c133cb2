/** An audit log entry in words, after the actor's handle, from its action and details. */
import type { Schemas } from '../../api/client';
import { duration } from './videoId';

type Entry = Schemas['LogEntry'];

const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const count = (value: unknown): number | null => (typeof value === 'number' ? value : null);

export function logWords(entry: Entry): string {
  const d = entry.details;
  const comment = entry.comment_id === null ? 'a comment' : `comment ${entry.comment_id}`;
  switch (entry.action) {
    case 'comment.remove':
      return `removed ${comment}`;
    case 'comment.reject':
      return `rejected held ${comment}`;
    case 'comment.approve':
      return `approved ${comment}`;
    case 'restriction.add': {
      const seconds = count(d['seconds']);
      const span = seconds === null ? 'until lifted' : `for ${duration(seconds)}`;
      return d['kind'] === 'ban' ? `banned a user ${span}` : `timed a user out ${span}`;
    }
    case 'restriction.lift':
      return d['kind'] === 'ban' ? 'lifted a ban' : 'lifted a timeout';
    case 'slow_mode.set': {
      const seconds = count(d['seconds']);
      if (seconds === null) return 'changed slow mode';
      return seconds === 0
        ? 'turned slow mode off'
        : `set slow mode to one comment every ${duration(seconds)}`;
    }
    case 'held_word.add':
      return text(d['word']) ? `held the word “${text(d['word'])}”` : 'added a held word';
    case 'held_word.remove':
      return text(d['word']) ? `stopped holding “${text(d['word'])}”` : 'removed a held word';
    case 'role.grant':
    case 'role.revoke': {
      const role = text(d['new_role']);
      return role
        ? `made a user ${role === 'viewer' ? 'a viewer' : `${role === 'admin' ? 'an' : 'a'} ${role}`}`
        : 'changed a role';
    }
    default:
      return entry.action;
  }
}

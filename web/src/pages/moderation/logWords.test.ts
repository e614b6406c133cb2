import { describe, expect, it } from 'vitest';
import type { Schemas } from '../../api/client';
import { logWords } from './logWords';

function entry(action: string, details: Record<string, unknown> = {}, commentId: number | null = null) {
  const value: Schemas['LogEntry'] = {
    id: 1,
    actor: { id: 'm', handle: 'mod' },
    action,
    video_id: null,
    comment_id: commentId,
    target_user_id: null,
    reason: '',
    details,
    created_at: '2026-12-07T01:00:00Z',
  };
  return value;
}

describe('logWords', () => {
  it('names the comment acted on', () => {
    expect(logWords(entry('comment.remove', {}, 41))).toBe('removed comment 41');
    expect(logWords(entry('comment.reject', {}, 7))).toBe('rejected held comment 7');
    expect(logWords(entry('comment.approve'))).toBe('approved a comment');
  });
  it('says how long a restriction is and what was lifted', () => {
    expect(logWords(entry('restriction.add', { kind: 'timeout', seconds: 600 }))).toBe(
      'timed a user out for 10 minutes',
    );
    expect(logWords(entry('restriction.add', { kind: 'ban', seconds: null }))).toBe(
      'banned a user until lifted',
    );
    expect(logWords(entry('restriction.lift', { kind: 'ban' }))).toBe('lifted a ban');
  });
  it('gives the pace, the word and the role', () => {
    expect(logWords(entry('slow_mode.set', { seconds: 30 }))).toBe(
      'set slow mode to one comment every 30 seconds',
    );
    expect(logWords(entry('slow_mode.set', { seconds: 0 }))).toBe('turned slow mode off');
    expect(logWords(entry('held_word.add', { word: 'spoiler' }))).toBe('held the word “spoiler”');
    expect(logWords(entry('held_word.remove', { word: 'spoiler' }))).toBe('stopped holding “spoiler”');
    expect(logWords(entry('role.grant', { old_role: 'viewer', new_role: 'moderator' }))).toBe(
      'made a user a moderator',
    );
    expect(logWords(entry('role.grant', { new_role: 'admin' }))).toBe('made a user an admin');
  });
  it('shows an action it does not know as it is', () => {
    expect(logWords(entry('something.new'))).toBe('something.new');
  });
});

import { describe, expect, it } from 'vitest';
import type { Comment } from '../../realtime';
import { anchored, atMoment, isReaction, repliesByRoot, topLevel } from './threads';

function comment(id: number, extra: Partial<Comment> = {}): Comment {
  return {
    id,
    video_id: 'v',
    author: { id: 'u', handle: 'ada' },
    body: `comment ${id}`,
    parent_id: null,
    root_id: null,
    position_seconds: null,
    status: 'visible',
    reply_count: 0,
    created_at: '2026-12-07T12:00:00Z',
    edited_at: null,
    ...extra,
  };
}

const all = new Map<number, Comment>(
  [
    comment(1, { position_seconds: 12 }),
    comment(2, { root_id: 1, parent_id: 1 }),
    comment(3),
    comment(4, { root_id: 1, parent_id: 2, position_seconds: 3 }),
    comment(5, { body: ' ❤️ ', position_seconds: 12 }),
  ].map((c) => [c.id, c]),
);

describe('threads', () => {
  it('lists top-level comments newest first', () => {
    expect(topLevel(all).map((c) => c.id)).toEqual([5, 3, 1]);
  });
  it('groups replies under their root, oldest first', () => {
    expect(
      repliesByRoot(all)
        .get(1)
        ?.map((c) => c.id),
    ).toEqual([2, 4]);
    expect(repliesByRoot(all).has(3)).toBe(false);
  });
  it('orders anchored comments by position, then id', () => {
    expect(anchored(all).map((c) => c.id)).toEqual([4, 1, 5]);
  });
  it('finds the comments of the last few seconds', () => {
    const list = anchored(all);
    expect(atMoment(list, 13).map((c) => c.id)).toEqual([1, 5]);
    expect(atMoment(list, 11).map((c) => c.id)).toEqual([]);
    expect(atMoment(list, 16.5).map((c) => c.id)).toEqual([]);
  });
  it('recognises a reaction by its whole body', () => {
    expect(isReaction(all.get(5)!)).toBe(true);
    expect(isReaction(comment(6, { body: '❤️ nice' }))).toBe(false);
  });
});

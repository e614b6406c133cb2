import { describe, expect, it } from 'vitest';

import type { Comment, Publication } from '../types';
import { applyRating, applyVideoEvent, EMPTY_VIDEO_VIEW, videoEvent, withComments } from '../videoEvents';
import { recoverAfter, videoChannel } from './fixtures';
import { receives } from './replay';

function publications(...frames: Array<Record<string, unknown>>[]): Publication[] {
  return frames.flat().flatMap((frame) => {
    if (frame.type === 'publication') return [frame as unknown as Publication];
    if (frame.type === 'subscribed') return (frame.publications as Publication[]) ?? [];
    return [];
  });
}

const comment = (id: number, root: number | null = null): Comment => ({
  id,
  video_id: 'v',
  author: { id: 'u', handle: 'ada' },
  body: `comment ${id}`,
  parent_id: root,
  root_id: root,
  position_seconds: null,
  status: 'visible',
  reply_count: 0,
  created_at: '2026-12-07T00:00:00Z',
  edited_at: null,
});

describe('video channel events', () => {
  it('applies the recorded events: created, edited, rating, removed', () => {
    let view = EMPTY_VIDEO_VIEW;
    const steps: Array<[string, number, string | undefined]> = [];
    for (const publication of publications(receives(videoChannel))) {
      const event = videoEvent(publication);
      if (event === null) continue;
      view = applyVideoEvent(view, event);
      const first = [...view.comments.values()][0];
      steps.push([event.type, view.comments.size, first?.body]);
    }
    expect(steps).toEqual([
      ['comment.created', 1, 'what a goal'],
      ['comment.edited', 1, 'what a goal!'],
      ['rating', 1, 'what a goal!'],
      ['comment.removed', 0, undefined],
    ]);
    expect(view.rating).toMatchObject({ version: 1, count: 1, mean: 4, histogram: [0, 0, 0, 1, 0] });
    expect(view.removed.size).toBe(1);
  });

  it('applies recovered publications like live ones', () => {
    let view = EMPTY_VIDEO_VIEW;
    for (const publication of publications(receives(recoverAfter))) {
      const event = videoEvent(publication);
      if (event) view = applyVideoEvent(view, event);
    }
    expect([...view.comments.values()].map((c) => c.body)).toEqual(['missed one', 'missed two']);
  });

  it('hides a thread with its top-level comment and keeps removed ones out of later REST pages', () => {
    let view = withComments(EMPTY_VIDEO_VIEW, [comment(1), comment(2, 1), comment(3)]);
    view = applyVideoEvent(view, {
      type: 'comment.removed',
      video_id: 'v',
      comment_id: 1,
      root_id: null,
      reason: 'removed',
    });
    expect([...view.comments.keys()]).toEqual([3]);
    view = withComments(view, [comment(1), comment(2, 1), comment(4)]); // a page fetched meanwhile
    expect([...view.comments.keys()].sort()).toEqual([3, 4]);
  });

  it('never applies an older rating version over a newer one', () => {
    let view = applyRating(EMPTY_VIDEO_VIEW, { version: 5, count: 3, mean: 4, histogram: [0, 0, 0, 3, 0] });
    view = applyRating(view, { version: 4, count: 2, mean: 4, histogram: [0, 0, 0, 2, 0] });
    expect(view.rating?.version).toBe(5);
    view = applyRating(view, { version: 6, count: 4, mean: 4.25, histogram: [0, 0, 0, 3, 1] });
    expect(view.rating).toEqual({ version: 6, count: 4, mean: 4.25, histogram: [0, 0, 0, 3, 1] });
  });

  it('ignores event types it does not know', () => {
    const unknown = {
      type: 'publication',
      channel: 'video:v',
      epoch: 'e',
      offset: 1,
      data: { type: 'poll.opened' },
    };
    expect(videoEvent(unknown as Publication)).toBeNull();
  });
});

import { describe, expect, it } from 'vitest';
import { feedAction, feedItemOf, mergeFeed, reloadFeed, type FeedItem } from './feed';

function item(id: number, overrides: Partial<FeedItem> = {}): FeedItem {
  return {
    id,
    actor: { id: 'a', handle: 'ada' },
    verb: 'rated',
    video: { id: 'v', title: 'The final' },
    subject: null,
    object_id: null,
    data: { stars: 5 },
    created_at: '2026-11-25T18:02:11Z',
    ...overrides,
  };
}

describe('feedItemOf', () => {
  it('takes the item of a feed.item event', () => {
    expect(feedItemOf({ type: 'feed.item', item: item(7) })?.id).toBe(7);
  });
  it('ignores other events and malformed data', () => {
    expect(feedItemOf({ type: 'media.status', video: {} })).toBeNull();
    expect(feedItemOf({ type: 'feed.item', item: { id: 'x' } })).toBeNull();
    expect(feedItemOf(null)).toBeNull();
    expect(feedItemOf('feed.item')).toBeNull();
  });
});

describe('mergeFeed', () => {
  it('keeps each activity once, newest first, the later copy winning', () => {
    const merged = mergeFeed([item(3), item(1)], [item(2), item(3, { data: { stars: 2 } })]);
    expect(merged.map((i) => i.id)).toEqual([3, 2, 1]);
    expect(merged[0]?.data).toEqual({ stars: 2 });
  });
});

describe('reloadFeed', () => {
  it('takes the page as the truth and keeps only live items newer than it', () => {
    const reloaded = reloadFeed([item(9), item(5), item(4)], [item(6), item(4)]);
    // 5 is gone from the page (an undone follow); 9 arrived live after the page was read.
    expect(reloaded.map((i) => i.id)).toEqual([9, 6, 4]);
  });
  it('keeps every live item when the page is empty', () => {
    expect(reloadFeed([item(2)], []).map((i) => i.id)).toEqual([2]);
  });
});

describe('feedAction', () => {
  it('says each verb in words', () => {
    expect(feedAction(item(1))).toBe('rated The final 5 stars');
    expect(feedAction(item(1, { data: { stars: 1 } }))).toBe('rated The final 1 star');
    expect(feedAction(item(1, { verb: 'commented' }))).toBe('commented on The final');
    expect(feedAction(item(1, { verb: 'started_party' }))).toBe('started a watch party for The final');
    expect(feedAction(item(1, { verb: 'uploaded', video: null }))).toBe('uploaded a video');
    expect(feedAction(item(1, { verb: 'followed', subject: null }))).toBe('followed someone');
    expect(feedAction(item(1, { verb: 'shared' as FeedItem['verb'] }))).toBe('did something new');
    expect(feedAction(item(1, { verb: 'followed', subject: { id: 'b', handle: 'bo' } }))).toBe(
      'followed @bo',
    );
  });
});

/**
 * The activity feed as data: REST pages and live `feed.item` events merged by id (the REST
 * answer and a live item may carry the same activity), and each item said in words.
 */
import type { Schemas } from '../../api/client';

export type FeedItem = Schemas['FeedItem'];

/** The feed item a `user:` publication carries, or null for any other event (ignored, per protocol). */
export function feedItemOf(data: unknown): FeedItem | null {
  if (typeof data !== 'object' || data === null) return null;
  const event = data as { type?: unknown; item?: unknown };
  if (event.type !== 'feed.item' || typeof event.item !== 'object' || event.item === null) return null;
  const item = event.item as Partial<FeedItem>;
  if (typeof item.id !== 'number' || typeof item.actor?.handle !== 'string') return null;
  return item as FeedItem;
}

/** Both lists in one, newest (largest id) first, each activity once: the later copy wins. */
export function mergeFeed(current: readonly FeedItem[], incoming: readonly FeedItem[]): FeedItem[] {
  const byId = new Map<number, FeedItem>();
  for (const item of current) byId.set(item.id, item);
  for (const item of incoming) byId.set(item.id, item);
  return [...byId.values()].sort((a, b) => b.id - a.id);
}

/**
 * The feed after loading its first page again: the page is the truth (a "followed" item whose
 * follow was undone is gone from it), kept with the live items newer than anything it holds.
 */
export function reloadFeed(current: readonly FeedItem[], firstPage: readonly FeedItem[]): FeedItem[] {
  const newest = firstPage.reduce((max, item) => Math.max(max, item.id), 0);
  return mergeFeed(
    firstPage,
    current.filter((item) => item.id > newest),
  );
}

/** What the actor did, after their handle, in parts around what it concerns (a link on the page). */
export interface FeedWords {
  before: string;
  target: { video: NonNullable<FeedItem['video']> } | { person: NonNullable<FeedItem['subject']> } | null;
  after: string;
}

export function feedWords(item: FeedItem): FeedWords {
  const video = (before: string, after = ''): FeedWords =>
    item.video
      ? { before, target: { video: item.video }, after }
      : { before: `${before}a video`, target: null, after };
  switch (item.verb) {
    case 'rated': {
      const stars = item.data['stars'];
      return video('rated ', typeof stars === 'number' ? ` ${stars} ${stars === 1 ? 'star' : 'stars'}` : '');
    }
    case 'commented':
      return video('commented on ');
    case 'started_party':
      return video('started a watch party for ');
    case 'uploaded':
      return video('uploaded ');
    case 'followed':
      return item.subject
        ? { before: 'followed ', target: { person: item.subject }, after: '' }
        : { before: 'followed someone', target: null, after: '' };
    default:
      return { before: 'did something new', target: null, after: '' };
  }
}

/** The whole sentence: "rated The final 5 stars", "followed @bo". */
export function feedAction(item: FeedItem): string {
  const { before, target, after } = feedWords(item);
  const middle = target === null ? '' : 'video' in target ? target.video.title : `@${target.person.handle}`;
  return `${before}${middle}${after}`;
}

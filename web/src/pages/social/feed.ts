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

/** What the actor did, after their handle, in parts around the video's title (a link on the page). */
export interface FeedWords {
  before: string;
  video: FeedItem['video'];
  after: string;
}

export function feedWords(item: FeedItem): FeedWords {
  const around = (before: string, after = ''): FeedWords => ({ before, video: item.video, after });
  switch (item.verb) {
    case 'rated': {
      const stars = item.data['stars'];
      return typeof stars === 'number'
        ? around('rated ', ` ${stars} ${stars === 1 ? 'star' : 'stars'}`)
        : around('rated ');
    }
    case 'commented':
      return around('commented on ');
    case 'started_party':
      return around('started a watch party for ');
    case 'uploaded':
      return around('uploaded ');
    case 'followed':
      return {
        before: item.subject ? `followed @${item.subject.handle}` : 'followed someone',
        video: null,
        after: '',
      };
    default:
      return { before: 'did something new', video: null, after: '' };
  }
}

/** The whole sentence: "rated The final 5 stars" ("a video" when the video is not named). */
export function feedAction(item: FeedItem): string {
  const words = feedWords(item);
  const title = words.video ? words.video.title : words.before.endsWith(' ') ? 'a video' : '';
  return `${words.before}${title}${words.after}`;
}

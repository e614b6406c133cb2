import { describe, expect, it } from 'vitest';
import {
  actorWords,
  applyNotificationEvent,
  mergeNotifications,
  notificationEventOf,
  notificationLink,
  notificationWords,
  unreadLabel,
  type Notification,
} from './notifications';

const person = (handle: string) => ({ id: `id-${handle}`, handle });

function notification(over: Partial<Notification> = {}): Notification {
  return {
    id: 1,
    kind: 'follow',
    actors: [person('ana')],
    actor_count: 1,
    video_id: null,
    comment_id: null,
    party_id: null,
    data: {},
    created_at: '2026-12-07T03:00:00Z',
    updated_at: '2026-12-07T03:00:00Z',
    read: false,
    ...over,
  };
}

describe('actorWords', () => {
  it('names one, two or three people when they are all there is', () => {
    expect(actorWords({ actors: [person('ana')], actor_count: 1 })).toBe('@ana');
    expect(actorWords({ actors: [person('ana'), person('bo')], actor_count: 2 })).toBe('@ana and @bo');
    expect(actorWords({ actors: [person('ana'), person('bo'), person('cy')], actor_count: 3 })).toBe(
      '@ana, @bo and @cy',
    );
  });

  it('names two and counts the others in a bigger group', () => {
    const three = [person('ana'), person('bo'), person('cy')];
    expect(actorWords({ actors: three, actor_count: 5 })).toBe('@ana, @bo and 3 others');
    expect(actorWords({ actors: [person('ana')], actor_count: 2 })).toBe('@ana and 1 other');
  });
});

describe('notificationWords', () => {
  it('says a grouped follow the way people expect', () => {
    const five = notification({ actors: [person('ana'), person('bo'), person('cy')], actor_count: 5 });
    expect(notificationWords(five)).toBe('@ana, @bo and 3 others followed you');
  });

  it('quotes a mention and names an upload by its title', () => {
    expect(notificationWords(notification({ kind: 'mention', data: { excerpt: 'hi @me' } }))).toBe(
      '@ana mentioned you: “hi @me”',
    );
    const failed = notification({
      kind: 'upload_failed',
      actors: [],
      actor_count: 0,
      data: { title: 'Cats', reason: 'not a video' },
    });
    expect(notificationWords(failed)).toBe('Your upload “Cats” could not be processed: not a video');
    const moderated = notification({
      kind: 'moderation',
      actors: [],
      actor_count: 0,
      data: { action: 'approved' },
    });
    expect(notificationWords(moderated)).toBe('A moderator approved your comment');
  });
});

describe('notificationLink', () => {
  it('leads to the video, the party with its invite, or the follower', () => {
    expect(notificationLink(notification({ kind: 'reply', video_id: 'v1', comment_id: 4 }))).toBe(
      '/watch/v1',
    );
    expect(
      notificationLink(
        notification({ kind: 'party_invite', party_id: 'p1', video_id: 'v1', data: { invite: 'a b' } }),
      ),
    ).toBe('/party/p1?invite=a%20b');
    expect(notificationLink(notification())).toBe('/people/ana');
    expect(notificationLink(notification({ kind: 'moderation', actors: [] }))).toBeNull();
  });
});

describe('live events', () => {
  it('reads only well-formed notification events', () => {
    expect(notificationEventOf({ type: 'notification.unread', count: 3 })).toEqual({
      type: 'notification.unread',
      count: 3,
    });
    expect(notificationEventOf({ type: 'notification.unread', count: '3' })).toBeNull();
    expect(notificationEventOf({ type: 'feed.item', item: {} })).toBeNull();
    expect(notificationEventOf(null)).toBeNull();
  });

  it('moves an updated group to the top, drops a withdrawn one, marks read by id or up to an id', () => {
    const older = notification({ id: 1, updated_at: '2026-12-07T03:00:00Z' });
    const newer = notification({ id: 2, kind: 'reply', updated_at: '2026-12-07T03:05:00Z' });
    let list = mergeNotifications([], [older, newer]);
    expect(list.map((n) => n.id)).toEqual([2, 1]);

    const grown = { ...older, actor_count: 2, updated_at: '2026-12-07T03:10:00Z' };
    list = applyNotificationEvent(list, { type: 'notification.updated', notification: grown });
    expect(list.map((n) => [n.id, n.actor_count])).toEqual([
      [1, 2],
      [2, 1],
    ]);

    list = applyNotificationEvent(list, { type: 'notification.read', ids: [2], up_to: null });
    expect(list.map((n) => n.read)).toEqual([false, true]);
    list = applyNotificationEvent(list, { type: 'notification.read', ids: null, up_to: 1 });
    expect(list.every((n) => n.read)).toBe(true);

    list = applyNotificationEvent(list, { type: 'notification.withdrawn', id: 1 });
    expect(list.map((n) => n.id)).toEqual([2]);
  });
});

describe('unreadLabel', () => {
  it('names the bell with the unread count, if any', () => {
    expect(unreadLabel(null)).toBe('Notifications');
    expect(unreadLabel(0)).toBe('Notifications');
    expect(unreadLabel(3)).toBe('Notifications, 3 unread');
  });
});

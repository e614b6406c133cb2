/**
 * Notifications as data: each one said in words ("@ana and 4 others followed you"), where it
 * leads, and the list kept current from the live `notification.*` events on `user:{id}`
 * (docs/protocol.md): merged by id, latest activity first.
 */
import type { Schemas } from '../../api/client';

export type Notification = Schemas['Notification'];
export type NotificationKind = Notification['kind'];

/** The kinds in the order the settings screen lists them, each with what it is about. */
export const KIND_WORDS: Record<NotificationKind, string> = {
  reply: 'Replies to your comments',
  mention: 'Mentions of your handle',
  follow: 'New followers',
  friend: 'New friends (someone follows you back)',
  party_invite: 'Watch party invites',
  upload_ready: 'Your upload is ready',
  upload_failed: 'Your upload failed',
  moderation: 'A moderator acted on your comment',
};
export const KINDS = Object.keys(KIND_WORDS) as NotificationKind[];

/** Who did it: all of them when they are three or fewer and all known, else two and "N others". */
export function actorWords(notification: Pick<Notification, 'actors' | 'actor_count'>): string {
  const handles = notification.actors.map((actor) => `@${actor.handle}`);
  const count = Math.max(notification.actor_count, handles.length);
  if (handles.length === 0) return count === 1 ? 'Someone' : `${count} people`;
  if (count <= 3 && handles.length === count) {
    if (handles.length === 1) return handles[0]!;
    return `${handles.slice(0, -1).join(', ')} and ${handles[handles.length - 1]!}`;
  }
  const named = handles.slice(0, count - 1 === 1 ? 1 : 2);
  const others = count - named.length;
  return `${named.join(', ')} and ${others} ${others === 1 ? 'other' : 'others'}`;
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value : null;
}

/** The whole sentence a notification says. */
export function notificationWords(n: Notification): string {
  const who = actorWords(n);
  const title = text(n.data['title']);
  const video = title ? `“${title}”` : 'your video';
  switch (n.kind) {
    case 'reply':
      return `${who} replied to your comment`;
    case 'mention': {
      const excerpt = text(n.data['excerpt']);
      return excerpt ? `${who} mentioned you: “${excerpt}”` : `${who} mentioned you`;
    }
    case 'follow':
      return `${who} followed you`;
    case 'friend':
      return `${who} followed you back: you are friends now`;
    case 'party_invite':
      return `${who} invited you to a watch party`;
    case 'upload_ready':
      return `Your upload ${video} is ready to watch`;
    case 'upload_failed': {
      const reason = text(n.data['reason']);
      return `Your upload ${video} could not be processed${reason ? `: ${reason}` : ''}`;
    }
    case 'moderation': {
      const action = n.data['action'] === 'approved' ? 'approved' : 'removed';
      const reason = text(n.data['reason']);
      return `A moderator ${action} your comment${reason ? `: ${reason}` : ''}`;
    }
    default:
      return 'Something new happened';
  }
}

/** Where a notification leads: the video, the party (with its invite), or the person. */
export function notificationLink(n: Notification): string | null {
  if (n.kind === 'party_invite' && n.party_id) {
    const invite = text(n.data['invite']);
    return `/party/${n.party_id}${invite ? `?invite=${encodeURIComponent(invite)}` : ''}`;
  }
  if (n.video_id) return `/watch/${n.video_id}`;
  const first = n.actors[0];
  if ((n.kind === 'follow' || n.kind === 'friend') && first) return `/people/${first.handle}`;
  return null;
}

/** A live event on `user:{id}` that concerns notifications; null for anything else (ignored). */
export type NotificationEvent =
  | { type: 'notification.created' | 'notification.updated'; notification: Notification }
  | { type: 'notification.withdrawn'; id: number }
  | { type: 'notification.read'; ids: number[] | null; up_to: number | null }
  | { type: 'notification.unread'; count: number };

export function notificationEventOf(data: unknown): NotificationEvent | null {
  if (typeof data !== 'object' || data === null) return null;
  const event = data as Record<string, unknown>;
  switch (event['type']) {
    case 'notification.created':
    case 'notification.updated': {
      const n = event['notification'] as Partial<Notification> | undefined;
      return typeof n?.id === 'number' && typeof n.kind === 'string' && Array.isArray(n.actors)
        ? (event as unknown as NotificationEvent)
        : null;
    }
    case 'notification.withdrawn':
      return typeof event['id'] === 'number' ? (event as unknown as NotificationEvent) : null;
    case 'notification.read':
      return Array.isArray(event['ids']) || typeof event['up_to'] === 'number'
        ? (event as unknown as NotificationEvent)
        : null;
    case 'notification.unread':
      return typeof event['count'] === 'number' ? (event as unknown as NotificationEvent) : null;
    default:
      return null;
  }
}

/** Latest activity first, then the newer id: the order the server lists them in. */
function byActivity(a: Notification, b: Notification): number {
  const at = Date.parse(b.updated_at) - Date.parse(a.updated_at);
  return at !== 0 && !Number.isNaN(at) ? at : b.id - a.id;
}

/** Both lists in one, each notification once (the incoming copy wins), latest activity first. */
export function mergeNotifications(
  current: readonly Notification[],
  incoming: readonly Notification[],
): Notification[] {
  const byId = new Map<number, Notification>();
  for (const n of current) byId.set(n.id, n);
  for (const n of incoming) byId.set(n.id, n);
  return [...byId.values()].sort(byActivity);
}

/** The list after one live event (the unread count event leaves it as it is). */
export function applyNotificationEvent(
  current: readonly Notification[],
  event: NotificationEvent,
): Notification[] {
  switch (event.type) {
    case 'notification.created':
    case 'notification.updated':
      return mergeNotifications(current, [event.notification]);
    case 'notification.withdrawn':
      return current.filter((n) => n.id !== event.id);
    case 'notification.read': {
      const ids = event.ids ? new Set(event.ids) : null;
      const upTo = event.up_to;
      return current.map((n) =>
        !n.read && ((ids !== null && ids.has(n.id)) || (upTo !== null && n.id <= upTo))
          ? { ...n, read: true }
          : n,
      );
    }
    default:
      return [...current];
  }
}

/** The bell's accessible name: how many are unread, if any. */
export function unreadLabel(count: number | null): string {
  if (count === null || count === 0) return 'Notifications';
  return `Notifications, ${count} unread`;
}

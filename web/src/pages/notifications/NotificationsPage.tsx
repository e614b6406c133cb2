/**
 * `/notifications`: your notifications, grouped as the server keeps them, latest activity first,
 * kept live from `notification.*` on your `user:` channel; mark one or all read. A subscription
 * that could not recover reloads the first page. `/notifications/settings`: which kinds you get.
 */
import { useCallback, useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { api, type Schemas } from '../../api/client';
import { useMe, useSignedIn } from '../../api/useSession';
import { Button } from '../../components/Button';
import { ErrorBanner } from '../../components/ErrorBanner';
import { PageTitle } from '../../components/PageTitle';
import { Empty, Loading } from '../../components/States';
import { useLoad } from '../../components/social/useLoad';
import { when } from '../../components/social/when';
import { liveClient } from '../../components/video/liveClient';
import { useChannel } from '../../realtime/react';
import {
  applyNotificationEvent,
  mergeNotifications,
  notificationEventOf,
  notificationLink,
  notificationWords,
  type Notification,
} from './notifications';
import { NotificationSettings } from './NotificationSettings';

export default function NotificationsPage() {
  const signedIn = useSignedIn();
  const me = useMe();
  const { section } = useParams();
  const title = section === 'settings' ? 'Notification settings' : 'Notifications';
  if (!signedIn) {
    return (
      <section>
        <PageTitle>{title}</PageTitle>
        <p>
          <Link className="text-indigo-700 underline" to="/signin?next=/notifications">
            Sign in
          </Link>{' '}
          to see your notifications.
        </p>
      </section>
    );
  }
  if (!me) {
    return (
      <section>
        <PageTitle>{title}</PageTitle>
        <Loading />
      </section>
    );
  }
  return section === 'settings' ? <NotificationSettings /> : <NotificationList userId={me.id} />;
}

function NotificationList({ userId }: { userId: string }) {
  const [items, setItems] = useState<Notification[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [action, setAction] = useState<{ busy: boolean; error: unknown }>({ busy: false, error: null });
  const first = useLoad(async (signal) => {
    const page = await api.get<Schemas['NotificationPage']>('/me/notifications', {
      auth: 'required',
      signal,
    });
    setItems(page.items);
    setCursor(page.next_cursor);
    return true;
  }, userId);
  const { reload } = first;

  useChannel(
    `user:${userId}`,
    {
      onSubscribed: (info) => {
        if (info.resumed && !info.recovered) reload();
      },
      onPublication: (publication) => {
        const event = notificationEventOf(publication.data);
        if (event) setItems((current) => applyNotificationEvent(current, event));
      },
    },
    liveClient(),
  );

  const run = useCallback(async (work: () => Promise<void>) => {
    setAction({ busy: true, error: null });
    try {
      await work();
      setAction({ busy: false, error: null });
    } catch (error) {
      setAction({ busy: false, error });
    }
  }, []);

  const older = () =>
    run(async () => {
      if (cursor === null) return;
      const page = await api.get<Schemas['NotificationPage']>('/me/notifications', {
        auth: 'required',
        query: { cursor },
      });
      setItems((current) => mergeNotifications(current, page.items));
      setCursor(page.next_cursor);
    });
  const markRead = (n: Notification) =>
    run(async () => {
      await api.post(`/me/notifications/${n.id}/read`, undefined, { auth: 'required' });
      setItems((current) => current.map((item) => (item.id === n.id ? { ...item, read: true } : item)));
    });
  const markAll = () =>
    run(async () => {
      await api.post('/me/notifications/read', undefined, { auth: 'required' });
      setItems((current) => current.map((item) => ({ ...item, read: true })));
    });

  const unread = items.some((n) => !n.read);
  return (
    <section className="flex flex-col gap-4">
      <PageTitle>Notifications</PageTitle>
      <div className="flex flex-wrap items-center gap-2">
        <Button disabled={action.busy || !unread} onClick={() => void markAll()}>
          Mark all read
        </Button>
        <Link className="text-sm text-indigo-700 underline" to="/notifications/settings">
          Choose what you are told about
        </Link>
      </div>
      <ErrorBanner error={first.error ?? action.error} />
      {first.loading && items.length === 0 && <Loading label="Loading your notifications…" />}
      {!first.loading && !first.error && items.length === 0 && (
        <Empty>
          Nothing yet. You will be told here when someone follows you, replies to or mentions you, or invites
          you to a watch party, and when your uploads are ready.
        </Empty>
      )}
      {items.length > 0 && (
        <ol aria-label="Your notifications" className="flex flex-col gap-2">
          {items.map((n) => (
            <NotificationItem key={n.id} n={n} busy={action.busy} onRead={() => void markRead(n)} />
          ))}
        </ol>
      )}
      {cursor !== null && (
        <Button
          variant="secondary"
          className="self-start"
          disabled={action.busy}
          onClick={() => void older()}
        >
          {action.busy ? 'Loading…' : 'Older notifications'}
        </Button>
      )}
    </section>
  );
}

function NotificationItem({ n, busy, onRead }: { n: Notification; busy: boolean; onRead: () => void }) {
  const words = notificationWords(n);
  const to = notificationLink(n);
  return (
    <li
      data-testid={`notification-${n.id}`}
      data-read={n.read}
      className={`flex flex-wrap items-start justify-between gap-2 rounded-md border px-3 py-2 ${n.read ? 'border-slate-200 bg-white' : 'border-indigo-300 bg-indigo-50'}`}
    >
      <div className="flex min-w-0 flex-1 flex-col">
        <span className="break-words">
          {!n.read && (
            <span
              aria-hidden="true"
              className="mr-2 inline-block h-2.5 w-2.5 rounded-full bg-indigo-700 align-middle"
            />
          )}
          {!n.read && <span className="sr-only">Unread: </span>}
          {to ? (
            <Link className="text-indigo-900 underline underline-offset-2 hover:text-indigo-700" to={to}>
              {words}
            </Link>
          ) : (
            words
          )}
        </span>
        <time className="text-xs text-slate-600" dateTime={n.updated_at}>
          {when(n.updated_at)}
        </time>
      </div>
      {!n.read && (
        <Button variant="secondary" disabled={busy} aria-label={`Mark read: ${words}`} onClick={onRead}>
          Mark read
        </Button>
      )}
    </li>
  );
}

/**
 * The bell in the navigation bar: how many notifications are unread, kept live from
 * `notification.unread` on the user's `user:{id}` channel (so marking read in any tab updates
 * every tab), read again by REST whenever a subscription could not recover what it missed.
 */
import { useCallback, useEffect, useState } from 'react';
import { NavLink } from 'react-router-dom';
import { api, type Schemas } from '../api/client';
import { notificationEventOf, unreadLabel } from '../pages/notifications/notifications';
import { useChannel } from '../realtime/react';
import { liveClient } from './video/liveClient';

export function NotificationBell({ userId }: { userId: string }) {
  const [count, setCount] = useState<number | null>(null);
  const load = useCallback(async () => {
    try {
      const answer = await api.get<Schemas['UnreadCount']>('/me/notifications/unread', { auth: 'required' });
      setCount(answer.count);
    } catch {
      // The bell stays as it was; the notifications page says what went wrong.
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load, userId]);
  const channel = useChannel(
    `user:${userId}`,
    {
      onSubscribed: (info) => {
        if (!info.recovered) void load();
      },
      onPublication: (publication) => {
        const event = notificationEventOf(publication.data);
        if (event?.type === 'notification.unread') setCount(event.count);
      },
    },
    liveClient(),
  );
  const unread = count ?? 0;
  return (
    <NavLink
      to="/notifications"
      aria-label={unreadLabel(count)}
      data-testid="notification-bell"
      data-live={channel.subscribed !== null}
      className={({ isActive }) =>
        `relative inline-flex min-h-8 items-center gap-1 rounded px-2 py-1 text-sm font-medium ${isActive ? 'bg-indigo-100 text-indigo-900' : 'text-slate-700 hover:text-slate-950'}`
      }
    >
      <svg
        aria-hidden="true"
        viewBox="0 0 24 24"
        className="h-5 w-5"
        fill="none"
        stroke="currentColor"
        strokeWidth="2"
      >
        <path d="M6 8a6 6 0 1 1 12 0c0 7 3 9 3 9H3s3-2 3-9" />
        <path d="M10.3 21a1.94 1.94 0 0 0 3.4 0" />
      </svg>
      <span
        data-testid="notification-count"
        data-count={unread}
        className={
          unread > 0
            ? 'min-w-5 rounded-full bg-red-700 px-1.5 text-center text-xs font-bold text-white'
            : 'sr-only'
        }
      >
        {unread > 99 ? '99+' : unread}
      </span>
    </NavLink>
  );
}

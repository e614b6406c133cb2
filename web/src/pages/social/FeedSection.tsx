import { useCallback, useState } from 'react';
import { Link } from 'react-router-dom';
import { api, type Schemas } from '../../api/client';
import { Button } from '../../components/Button';
import { ErrorBanner } from '../../components/ErrorBanner';
import { Empty, Loading } from '../../components/States';
import { PersonLink } from '../../components/social/PersonLink';
import { Section } from '../../components/social/Section';
import { useLiveClient } from '../../components/social/useLiveClient';
import { useLoad } from '../../components/social/useLoad';
import { when } from '../../components/social/when';
import { useChannel } from '../../realtime/react';
import { feedItemOf, feedWords, mergeFeed, reloadFeed, type FeedItem } from './feed';

/**
 * What the people you follow did: the REST feed, then live `feed.item`s on your `user:`
 * channel. A reconnect that could not recover reloads the REST page (live items are a preview).
 */
export function FeedSection({ userId }: { userId: string }) {
  const [items, setItems] = useState<FeedItem[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [more, setMore] = useState<{ busy: boolean; error: unknown }>({ busy: false, error: null });
  const first = useLoad(async (signal) => {
    const page = await api.get<Schemas['FeedPage']>('/me/feed', { auth: 'required', signal });
    setItems((current) => reloadFeed(current, page.items));
    setCursor(page.next_cursor);
    return true;
  }, userId);
  const { reload } = first;

  const client = useLiveClient(true);
  const channel = useChannel(
    `user:${userId}`,
    {
      onSubscribed: (info) => {
        if (info.resumed && !info.recovered) reload();
      },
      onPublication: (publication) => {
        const item = feedItemOf(publication.data);
        if (item) setItems((current) => mergeFeed(current, [item]));
      },
    },
    client ?? undefined,
  );

  const older = useCallback(async () => {
    if (cursor === null) return;
    setMore({ busy: true, error: null });
    try {
      const page = await api.get<Schemas['FeedPage']>('/me/feed', { auth: 'required', query: { cursor } });
      setItems((current) => mergeFeed(current, page.items));
      setCursor(page.next_cursor);
      setMore({ busy: false, error: null });
    } catch (error) {
      setMore({ busy: false, error });
    }
  }, [cursor]);

  const live = channel.subscribed !== null;
  return (
    <Section
      title="Activity"
      actions={
        <span
          data-testid="feed-live"
          data-live={live}
          className={`rounded-full px-2 py-0.5 text-xs font-semibold ${live ? 'bg-emerald-100 text-emerald-900' : 'bg-slate-100 text-slate-700'}`}
        >
          {live ? 'Live' : channel.error ? 'Live updates unavailable' : 'Connecting…'}
        </span>
      }
    >
      <ErrorBanner error={first.error} />
      {first.loading && items.length === 0 && <Loading label="Loading your feed…" />}
      {!first.loading && !first.error && items.length === 0 && (
        <Empty>
          Nothing yet. Follow people to see what they rate, comment on, upload and watch together.
        </Empty>
      )}
      <ol aria-label="Activity feed" aria-live="polite" className="flex flex-col divide-y divide-slate-100">
        {items.map((item) => (
          <li key={item.id} data-testid={`feed-item-${item.id}`} className="flex flex-col py-2">
            <span>
              <PersonLink handle={item.actor.handle} /> <FeedSentence item={item} />
            </span>
            <time className="text-xs text-slate-600" dateTime={item.created_at}>
              {when(item.created_at)}
            </time>
          </li>
        ))}
      </ol>
      <ErrorBanner error={more.error} />
      {cursor !== null && (
        <Button variant="secondary" className="mt-2" disabled={more.busy} onClick={() => void older()}>
          {more.busy ? 'Loading…' : 'Older activity'}
        </Button>
      )}
    </Section>
  );
}

function FeedSentence({ item }: { item: FeedItem }) {
  const { before, target, after } = feedWords(item);
  return (
    <>
      {before}
      {target !== null &&
        ('video' in target ? (
          <Link className="text-indigo-800 underline" to={`/watch/${target.video.id}`}>
            {target.video.title}
          </Link>
        ) : (
          <PersonLink handle={target.person.handle} />
        ))}
      {after}
    </>
  );
}

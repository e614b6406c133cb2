import { useState } from 'react';
import { Link } from 'react-router-dom';
import { api, type Schemas } from '../../api/client';
import { Button } from '../../components/Button';
import { ErrorBanner } from '../../components/ErrorBanner';
import { Empty, Loading } from '../../components/States';
import { Section } from '../../components/social/Section';
import { useLoad } from '../../components/social/useLoad';
import { when } from '../../components/social/when';
import { logWords } from './logWords';

type Entry = Schemas['LogEntry'];

/** Every moderation action, newest first (admins only): who did what, to what, and why. */
export function AuditLog() {
  const first = useLoad(
    (signal) => api.get<Schemas['LogPage']>('/moderation/log', { auth: 'required', signal }),
    'log',
  );
  const [older, setOlder] = useState<{ items: Entry[]; cursor: string | null } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const cursor = older ? older.cursor : (first.data?.next_cursor ?? null);
  const items = [...(first.data?.items ?? []), ...(older?.items ?? [])];

  async function more() {
    if (cursor === null) return;
    setError(null);
    try {
      const page = await api.get<Schemas['LogPage']>('/moderation/log', {
        auth: 'required',
        query: { cursor },
      });
      setOlder((current) => ({
        items: [...(current?.items ?? []), ...page.items],
        cursor: page.next_cursor,
      }));
    } catch (caught) {
      setError(caught);
    }
  }

  return (
    <Section title="Audit log">
      <ErrorBanner error={first.error ?? error} />
      {first.loading && <Loading />}
      {!first.loading && !first.error && items.length === 0 && <Empty>No moderation actions yet.</Empty>}
      <ol className="flex flex-col divide-y divide-slate-100">
        {items.map((entry) => (
          <li key={entry.id} className="py-2 text-sm">
            <span className="font-semibold">
              {entry.actor ? `@${entry.actor.handle}` : 'A former moderator'}
            </span>{' '}
            {logWords(entry)}
            {entry.video_id !== null && (
              <>
                {' '}
                on{' '}
                <Link className="text-indigo-800 underline" to={`/watch/${entry.video_id}`}>
                  a video
                </Link>
              </>
            )}
            {entry.reason && <> · “{entry.reason}”</>}
            <br />
            <time className="text-xs text-slate-600" dateTime={entry.created_at}>
              {when(entry.created_at)}
            </time>
          </li>
        ))}
      </ol>
      {cursor !== null && (
        <Button variant="secondary" className="mt-2" onClick={() => void more()}>
          Older actions
        </Button>
      )}
    </Section>
  );
}

import { useEffect, useState } from 'react';
import { Link } from 'react-router-dom';
import { api, type Schemas } from '../../api/client';
import { Button } from '../../components/Button';
import { ErrorBanner } from '../../components/ErrorBanner';
import { Empty, Loading } from '../../components/States';
import { PersonLink } from '../../components/social/PersonLink';
import { Section } from '../../components/social/Section';
import { useLoad } from '../../components/social/useLoad';
import { when } from '../../components/social/when';

type Item = Schemas['QueueItem'];

const REFRESH_MS = 15_000;

/**
 * Held and reported comments, longest waiting first, looked at again every 15 s. Removing takes the comment off every open
 * video page at once (the server publishes the removal); approving publishes a held one.
 */
export function ReviewQueue() {
  const queue = useLoad(
    (signal) =>
      api.get<Schemas['QueuePage']>('/moderation/queue', { auth: 'required', signal, query: { limit: 50 } }),
    'queue',
  );
  const [done, setDone] = useState<string | null>(null);
  // No channel announces new reports or held comments: look again while the console is in view.
  const { reload } = queue;
  useEffect(() => {
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') reload();
    }, REFRESH_MS);
    return () => clearInterval(timer);
  }, [reload]);
  const items = queue.data?.items ?? [];
  return (
    <Section
      title="Review queue"
      actions={
        <Button variant="secondary" onClick={queue.reload} disabled={queue.loading}>
          Refresh
        </Button>
      }
    >
      <ErrorBanner error={queue.error} />
      <p role="status" className="text-sm text-emerald-800">
        {done}
      </p>
      {queue.loading && queue.data === null && <Loading label="Loading the queue…" />}
      {!queue.loading && !queue.error && items.length === 0 && <Empty>Nothing waits for review.</Empty>}
      <ul className="flex flex-col gap-3">
        {items.map((item) => (
          <QueueEntry
            key={item.comment.id}
            item={item}
            onDone={(words) => {
              setDone(words);
              queue.setData((page) =>
                page ? { ...page, items: page.items.filter((i) => i.comment.id !== item.comment.id) } : page,
              );
            }}
          />
        ))}
      </ul>
    </Section>
  );
}

function QueueEntry({ item, onDone }: { item: Item; onDone: (words: string) => void }) {
  const [reason, setReason] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const { comment } = item;

  async function decide(decision: 'approve' | 'remove') {
    setBusy(true);
    setError(null);
    try {
      await api.post(`/moderation/comments/${comment.id}/${decision}`, { reason }, { auth: 'required' });
      onDone(decision === 'approve' ? `Comment ${comment.id} approved.` : `Comment ${comment.id} removed.`);
    } catch (caught) {
      setError(caught);
      setBusy(false);
    }
  }

  return (
    <li data-testid={`queue-${comment.id}`} className="rounded-md border border-slate-200 p-3">
      <div className="flex flex-wrap items-baseline gap-x-2 text-sm">
        <PersonLink handle={comment.author.handle} />
        <span className="text-slate-600">on</span>
        <Link className="text-indigo-800 underline" to={`/watch/${comment.video_id}`}>
          this video
        </Link>
        <span
          className={`rounded-full px-2 py-0.5 text-xs font-semibold ${item.why === 'held' ? 'bg-amber-100 text-amber-900' : 'bg-red-100 text-red-900'}`}
        >
          {item.why === 'held'
            ? 'Held for review'
            : `Reported ${item.reports} ${item.reports === 1 ? 'time' : 'times'}`}
        </span>
        <span className="text-xs text-slate-600">waiting since {when(item.waiting_since)}</span>
      </div>
      <blockquote className="my-2 whitespace-pre-wrap break-words border-l-4 border-slate-300 pl-3">
        {comment.body}
      </blockquote>
      {item.report_reasons.length > 0 && (
        <p className="text-sm text-slate-700">Reasons given: {item.report_reasons.join(' · ')}</p>
      )}
      <ErrorBanner error={error} />
      <div className="mt-2 flex flex-col gap-2 sm:flex-row sm:items-end">
        <label className="flex flex-1 flex-col gap-1 text-sm font-medium">
          Note for the log (optional)
          <input
            value={reason}
            maxLength={500}
            onChange={(e) => setReason(e.target.value)}
            className="min-h-10 rounded-md border border-slate-400 px-3 py-2 text-base font-normal"
          />
        </label>
        <div className="flex gap-2">
          <Button
            disabled={busy}
            onClick={() => void decide('approve')}
            aria-label={`${item.why === 'held' ? 'Approve' : 'Keep'} comment ${comment.id}`}
          >
            {item.why === 'held' ? 'Approve' : 'Keep'}
          </Button>
          <Button
            variant="danger"
            disabled={busy}
            onClick={() => void decide('remove')}
            aria-label={`Remove comment ${comment.id}`}
          >
            Remove
          </Button>
        </div>
      </div>
    </li>
  );
}

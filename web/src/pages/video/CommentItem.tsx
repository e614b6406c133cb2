/**
 * One comment with what a viewer can do with it: reply, edit and delete their own, report
 * someone else's. `data-testid="comment-<id>"` marks it for the end-to-end tests.
 */
import { useId, useState, type FormEvent, type ReactNode } from 'react';
import { api, type Schemas } from '../../api/client';
import { Button } from '../../components/Button';
import { ErrorBanner } from '../../components/ErrorBanner';
import { formatPosition, formatWhen } from '../../components/video/time';
import type { Comment } from '../../realtime';
import { CommentForm } from './CommentForm';

const small = 'text-sm font-medium text-indigo-800 underline-offset-2 hover:underline';

export function CommentItem({
  comment,
  meId,
  staff,
  onSeek,
  onReply,
  onChanged,
  onDeleted,
  children,
}: {
  comment: Comment;
  meId: string | null;
  staff: boolean;
  onSeek: (seconds: number) => void;
  onReply: ((comment: Comment, body: string) => Promise<void>) | null;
  onChanged: (comment: Comment) => void;
  onDeleted: (commentId: number) => void;
  children?: ReactNode;
}) {
  const [mode, setMode] = useState<'view' | 'reply' | 'edit' | 'report' | 'reported'>('view');
  const [error, setError] = useState<unknown>(null);
  const mine = meId !== null && comment.author.id === meId;

  async function remove() {
    setError(null);
    try {
      await api.delete(`/comments/${comment.id}`, { auth: 'required' });
      onDeleted(comment.id);
    } catch (failure) {
      setError(failure);
    }
  }

  return (
    <li data-testid={`comment-${comment.id}`} className="rounded-md border border-slate-200 bg-white p-3">
      <div className="flex flex-wrap items-baseline gap-x-2 text-sm text-slate-600">
        <span className="font-semibold text-slate-900">@{comment.author.handle}</span>
        <span>{formatWhen(comment.created_at)}</span>
        {comment.edited_at && <span>(edited)</span>}
        {comment.position_seconds !== null && (
          <button
            type="button"
            className={small}
            onClick={() => onSeek(comment.position_seconds ?? 0)}
            aria-label={`Go to ${formatPosition(comment.position_seconds)} in the video`}
          >
            {formatPosition(comment.position_seconds)}
          </button>
        )}
        {comment.status === 'held' && (
          <span className="rounded bg-amber-100 px-2 text-amber-900">Waiting for a moderator</span>
        )}
      </div>
      {mode === 'edit' ? (
        <div className="mt-2">
          <CommentForm
            label="Edit your comment"
            submitLabel="Save"
            initial={comment.body}
            onCancel={() => setMode('view')}
            onSubmit={async (body) => {
              const changed = await api.patch<Comment>(
                `/comments/${comment.id}`,
                { body },
                { auth: 'required' },
              );
              onChanged(changed);
              setMode('view');
            }}
          />
        </div>
      ) : (
        <p className="mt-1 whitespace-pre-wrap break-words">{comment.body}</p>
      )}
      {meId !== null && mode === 'view' && (
        <div className="mt-2 flex flex-wrap gap-4">
          {onReply && (
            <button type="button" className={small} onClick={() => setMode('reply')}>
              Reply
            </button>
          )}
          {mine && (
            <button type="button" className={small} onClick={() => setMode('edit')}>
              Edit
            </button>
          )}
          {(mine || staff) && (
            <button type="button" className={small} onClick={() => void remove()}>
              Delete
            </button>
          )}
          {!mine && (
            <button type="button" className={small} onClick={() => setMode('report')}>
              Report
            </button>
          )}
        </div>
      )}
      {mode === 'reported' && (
        <p role="status" className="mt-2 text-sm text-slate-700">
          Thank you: a moderator will look at it.
        </p>
      )}
      <ErrorBanner error={error} />
      {mode === 'reply' && onReply && (
        <div className="mt-2">
          <CommentForm
            label={`Reply to @${comment.author.handle}`}
            submitLabel="Send reply"
            onCancel={() => setMode('view')}
            onSubmit={async (body) => {
              await onReply(comment, body);
              setMode('view');
            }}
          />
        </div>
      )}
      {mode === 'report' && (
        <ReportForm
          commentId={comment.id}
          onDone={() => setMode('reported')}
          onCancel={() => setMode('view')}
        />
      )}
      {children}
    </li>
  );
}

function ReportForm({
  commentId,
  onDone,
  onCancel,
}: {
  commentId: number;
  onDone: () => void;
  onCancel: () => void;
}) {
  const id = useId();
  const [reason, setReason] = useState('');
  const [error, setError] = useState<unknown>(null);
  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    try {
      const report: Schemas['NewReport'] = { reason };
      await api.post(`/comments/${commentId}/reports`, report, { auth: 'required' });
      onDone();
    } catch (failure) {
      setError(failure);
    }
  }
  return (
    <form onSubmit={(event) => void submit(event)} className="mt-2 flex flex-col gap-2">
      <label htmlFor={id} className="text-sm font-medium">
        Why should a moderator look at this?
      </label>
      <input
        id={id}
        value={reason}
        onChange={(event) => setReason(event.target.value)}
        className="min-h-10 rounded-md border border-slate-400 px-3 py-2"
      />
      <ErrorBanner error={error} />
      <div className="flex gap-3">
        <Button type="submit" variant="danger">
          Send report
        </Button>
        <Button variant="secondary" onClick={onCancel}>
          Cancel
        </Button>
      </div>
    </form>
  );
}

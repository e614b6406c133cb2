/** Writing a comment or a reply: a labelled text area, errors in words, optionally at the media's moment. */
import { useId, useState, type FormEvent } from 'react';
import { Button } from '../../components/Button';
import { ErrorBanner } from '../../components/ErrorBanner';
import { formatPosition } from '../../components/video/time';

export function CommentForm({
  label,
  submitLabel,
  initial = '',
  moment,
  onSubmit,
  onCancel,
}: {
  label: string;
  submitLabel: string;
  initial?: string;
  /** The media position to offer anchoring at (undefined: no such choice). */
  moment?: number;
  onSubmit: (body: string, anchored: boolean) => Promise<void>;
  onCancel?: () => void;
}) {
  const id = useId();
  const [body, setBody] = useState(initial);
  const [anchor, setAnchor] = useState(true);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await onSubmit(body, moment !== undefined && anchor);
      setBody('');
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={(event) => void submit(event)} className="flex flex-col gap-2">
      <label htmlFor={id} className="text-sm font-medium">
        {label}
      </label>
      <textarea
        id={id}
        value={body}
        onChange={(event) => setBody(event.target.value)}
        rows={2}
        className="rounded-md border border-slate-400 px-3 py-2 text-base"
      />
      <ErrorBanner error={error} />
      <div className="flex flex-wrap items-center gap-3">
        <Button type="submit" disabled={busy}>
          {submitLabel}
        </Button>
        {onCancel && (
          <Button variant="secondary" onClick={onCancel}>
            Cancel
          </Button>
        )}
        {moment !== undefined && (
          <label className="flex items-center gap-2 text-sm">
            <input type="checkbox" checked={anchor} onChange={(event) => setAnchor(event.target.checked)} />
            At {formatPosition(moment)} in the video
          </label>
        )}
      </div>
    </form>
  );
}

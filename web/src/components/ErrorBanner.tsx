import { describeError } from '../api/errors';

/** An error in words, announced to screen readers; nothing when there is no error. */
export function ErrorBanner({ error }: { error: unknown }) {
  if (error === null || error === undefined) return null;
  return (
    <div role="alert" className="rounded-md border border-red-300 bg-red-50 px-4 py-3 text-sm text-red-900">
      {describeError(error)}
    </div>
  );
}

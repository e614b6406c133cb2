/**
 * Five stars as a radio group (arrow keys move between them, as people expect of a rating), with
 * the live average and count beside it. Signed-out viewers see the average only.
 */
import { useId } from 'react';

export function StarRating({
  mean,
  count,
  mine,
  disabled,
  onRate,
  onClear,
}: {
  mean: number | null;
  count: number;
  mine: number | null;
  disabled: boolean;
  onRate: ((stars: number) => void) | null;
  onClear: () => void;
}) {
  const name = useId();
  const summary =
    count === 0
      ? 'No ratings yet'
      : `${(mean ?? 0).toFixed(1)} out of 5 from ${count} ${count === 1 ? 'rating' : 'ratings'}`;
  return (
    <div className="flex flex-wrap items-center gap-3">
      {onRate && (
        <fieldset className="flex items-center" disabled={disabled}>
          <legend className="sr-only">Your rating</legend>
          {[1, 2, 3, 4, 5].map((stars) => (
            <label key={stars} className="cursor-pointer p-1 text-2xl leading-none">
              <input
                type="radio"
                name={name}
                value={stars}
                checked={mine === stars}
                onChange={() => onRate(stars)}
                className="peer sr-only"
              />
              <span
                aria-hidden="true"
                className={`rounded peer-focus-visible:outline peer-focus-visible:outline-2 peer-focus-visible:outline-indigo-800 ${mine !== null && stars <= mine ? 'text-amber-600' : 'text-slate-400'}`}
              >
                ★
              </span>
              <span className="sr-only">{stars === 1 ? '1 star' : `${stars} stars`}</span>
            </label>
          ))}
        </fieldset>
      )}
      <p className="text-sm text-slate-700" data-testid="rating-summary" aria-live="polite">
        {summary}
      </p>
      {onRate && mine !== null && (
        <button
          type="button"
          onClick={onClear}
          disabled={disabled}
          className="text-sm text-indigo-800 underline hover:text-indigo-950"
        >
          Remove my rating
        </button>
      )}
    </div>
  );
}

import { useEffect, useState, type FormEvent } from 'react';
import { positionAt, type PartySession, type PartyState } from '../../realtime';
import { Button } from '../Button';
import { formatPosition, parsePosition } from './time';

const RATES = [0.5, 0.75, 1, 1.25, 1.5, 2] as const;

/**
 * Play, pause, seek and speed for the whole party. Each button sends a command; nothing changes
 * on this screen until the party's new state comes back, so everyone sees the same thing.
 */
export function PlaybackControls({
  session,
  state,
  allowed,
  hostHandle,
  onError,
}: {
  session: PartySession;
  state: PartyState;
  allowed: boolean;
  hostHandle: string | null;
  onError: (error: unknown) => void;
}) {
  const [busy, setBusy] = useState(false);
  const [jump, setJump] = useState('');
  const [jumpProblem, setJumpProblem] = useState<string | null>(null);
  const position = usePartyPosition(session, state);
  const { playback } = state;
  const duration = playback.duration;

  async function send(command: () => Promise<unknown>) {
    setBusy(true);
    try {
      await command();
      onError(null);
    } catch (error) {
      onError(error);
    } finally {
      setBusy(false);
    }
  }

  function seekTo(seconds: number) {
    const target = Math.max(0, duration == null ? seconds : Math.min(duration, seconds));
    void send(() => session.seek(target));
  }

  function submitJump(event: FormEvent) {
    event.preventDefault();
    const seconds = parsePosition(jump);
    if (seconds === null || (duration != null && seconds > duration)) {
      setJumpProblem(
        duration == null
          ? 'Write a time like 1:30.'
          : `Write a time like 1:30, up to ${formatPosition(duration)}.`,
      );
      return;
    }
    setJumpProblem(null);
    setJump('');
    seekTo(seconds);
  }

  const disabled = !allowed || busy;
  return (
    <section
      aria-label="Playback"
      className="flex flex-col gap-3 rounded-lg border border-slate-200 bg-white p-3"
    >
      <div className="flex flex-wrap items-center gap-2">
        <Button
          disabled={disabled}
          onClick={() => void send(() => (state.wants_to_play ? session.pause() : session.play()))}
        >
          {state.wants_to_play ? 'Pause' : 'Play'}
        </Button>
        <Button variant="secondary" disabled={disabled} onClick={() => seekTo(position - 10)}>
          Back 10 s
        </Button>
        <Button variant="secondary" disabled={disabled} onClick={() => seekTo(position + 10)}>
          Forward 10 s
        </Button>
        <p className="ml-auto font-mono text-sm tabular-nums text-slate-800" data-testid="party-position">
          {formatPosition(position)}
          {duration != null && ` / ${formatPosition(duration)}`}
          {playback.rate !== 1 && ` · ${playback.rate}×`}
        </p>
      </div>
      <div className="flex flex-wrap items-end gap-3">
        <form onSubmit={submitJump} className="flex items-end gap-2" noValidate>
          <div className="flex flex-col gap-1">
            <label htmlFor="party-jump" className="text-sm font-medium">
              Go to (m:ss)
            </label>
            <input
              id="party-jump"
              value={jump}
              onChange={(event) => setJump(event.target.value)}
              inputMode="numeric"
              disabled={!allowed}
              aria-invalid={jumpProblem !== null}
              aria-describedby={jumpProblem ? 'party-jump-problem' : undefined}
              className="min-h-10 w-24 rounded-md border border-slate-400 bg-white px-3 py-2 text-base"
            />
          </div>
          <Button type="submit" variant="secondary" disabled={disabled}>
            Go
          </Button>
        </form>
        <div className="flex flex-col gap-1">
          <label htmlFor="party-rate" className="text-sm font-medium">
            Speed
          </label>
          <select
            id="party-rate"
            value={String(playback.rate)}
            disabled={disabled}
            onChange={(event) => void send(() => session.setRate(Number(event.target.value)))}
            className="min-h-10 rounded-md border border-slate-400 bg-white px-3 py-2 text-base"
          >
            {(RATES.includes(playback.rate as (typeof RATES)[number])
              ? RATES
              : [...RATES, playback.rate]
            ).map((rate) => (
              <option key={rate} value={String(rate)}>
                {rate}×
              </option>
            ))}
          </select>
        </div>
      </div>
      {jumpProblem && (
        <p id="party-jump-problem" role="alert" className="text-sm text-red-800">
          {jumpProblem}
        </p>
      )}
      {!allowed && (
        <p className="text-sm text-slate-700">
          {hostHandle ? `@${hostHandle} controls playback.` : 'The host controls playback.'}
        </p>
      )}
      {state.waiting && (
        <p role="status" className="text-sm font-medium text-amber-900">
          Waiting for {state.buffering.length === 1 ? 'one member' : `${state.buffering.length} members`} to
          load the video…
        </p>
      )}
    </section>
  );
}

/** The party's position now, by the server's clock, refreshed four times a second. */
function usePartyPosition(session: PartySession, state: PartyState): number {
  const read = () => positionAt(state.playback, session.serverNow() ?? state.playback.at);
  const [position, setPosition] = useState(read);
  useEffect(() => {
    setPosition(read());
    const timer = setInterval(() => setPosition(read()), 250);
    return () => clearInterval(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [session, state]);
  return position;
}

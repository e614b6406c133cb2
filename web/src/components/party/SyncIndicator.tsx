import type { ClockEstimate, ConnectionState, FollowerStats } from '../../realtime';

/**
 * How well this screen keeps up with the party: the clock's offset from the server (and how sure
 * it is), the player's last drift, and how often it had to correct. Shown so a person can tell a
 * lagging screen from a lagging party.
 */
export function SyncIndicator({
  connection,
  clock,
  stats,
  seekFromMs,
}: {
  connection: ConnectionState | null;
  clock: ClockEstimate | null;
  stats: FollowerStats | null;
  seekFromMs: number;
}) {
  const drift = stats?.lastDriftMs ?? null;
  let label: string;
  let tone: string;
  if (connection?.status !== 'connected') {
    label = connection?.problem ?? (connection?.status === 'reconnecting' ? 'Reconnecting…' : 'Connecting…');
    tone = 'bg-amber-100 text-amber-950';
  } else if (clock === null) {
    label = 'Setting the clock…';
    tone = 'bg-amber-100 text-amber-950';
  } else if (drift === null || Math.abs(drift) < 50) {
    label = 'In sync';
    tone = 'bg-emerald-100 text-emerald-950';
  } else if (Math.abs(drift) < seekFromMs) {
    label = 'Catching up';
    tone = 'bg-sky-100 text-sky-950';
  } else {
    label = 'Out of sync';
    tone = 'bg-red-100 text-red-950';
  }
  return (
    <section
      aria-label="Sync"
      className="flex flex-wrap items-center gap-x-4 gap-y-1 text-sm"
      data-testid="sync-indicator"
    >
      <span className={`rounded-full px-2.5 py-0.5 font-semibold ${tone}`}>{label}</span>
      <span>
        Clock offset{' '}
        <span className="font-mono tabular-nums">
          {clock === null
            ? '—'
            : `${signed(clock.offset)} ms${clock.error === null ? '' : ` ±${clock.error.toFixed(1)}`}`}
        </span>
      </span>
      <span>
        Drift <span className="font-mono tabular-nums">{drift === null ? '—' : `${signed(drift)} ms`}</span>
      </span>
      {stats && (
        <span className="text-slate-700">
          {stats.correctiveSeeks} {stats.correctiveSeeks === 1 ? 'jump' : 'jumps'}, {stats.rateChanges} speed{' '}
          {stats.rateChanges === 1 ? 'change' : 'changes'}
        </span>
      )}
    </section>
  );
}

function signed(ms: number): string {
  const rounded = Math.abs(ms) < 10 ? ms.toFixed(1) : ms.toFixed(0);
  return ms > 0 ? `+${rounded}` : rounded;
}

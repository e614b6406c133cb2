import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { ConnectionState, FollowerStats } from '../../realtime';
import { corrections } from './corrections';
import { SyncIndicator } from './SyncIndicator';

const connected: ConnectionState = {
  status: 'connected',
  attempt: 0,
  user: null,
  client: 'c',
  lastClose: null,
  problem: null,
  retryInMs: null,
};

function stats(lastDriftMs: number | null): FollowerStats {
  return {
    correctiveSeeks: 1,
    quietSeeks: 0,
    rateChanges: 3,
    rateCorrections: 2,
    pauses: 0,
    plays: 1,
    lastDriftMs,
    startLatencyMs: 0,
    seekLatencyMs: 0,
  };
}

describe('SyncIndicator', () => {
  it('shows the clock offset with its error, the drift and the corrections', () => {
    render(
      <SyncIndicator
        connection={connected}
        clock={{ offset: -2500.4, error: 0.3, samples: 16 }}
        stats={stats(4.2)}
        seekFromMs={250}
      />,
    );
    const box = screen.getByTestId('sync-indicator');
    expect(box.textContent).toContain('In sync');
    expect(box.textContent).toContain('Clock offset -2500 ms ±0.3');
    expect(box.textContent).toContain('Drift +4.2 ms');
    expect(box.textContent).toContain('Kept in step: 2 gentle corrections, 1 jump');
  });

  it('tells catching up from out of sync, and says when the connection is not there', () => {
    const clock = { offset: 0, error: 1, samples: 16 };
    const { rerender } = render(
      <SyncIndicator connection={connected} clock={clock} stats={stats(-120)} seekFromMs={250} />,
    );
    expect(screen.getByText('Catching up')).toBeTruthy();
    rerender(<SyncIndicator connection={connected} clock={clock} stats={stats(400)} seekFromMs={250} />);
    expect(screen.getByText('Out of sync')).toBeTruthy();
    rerender(
      <SyncIndicator
        connection={{ ...connected, status: 'reconnecting' }}
        clock={clock}
        stats={stats(0)}
        seekFromMs={250}
      />,
    );
    expect(screen.getByText('Reconnecting…')).toBeTruthy();
  });

  it('counts corrections gently: nothing, one, several, and jumps only when there were some', () => {
    expect(corrections({ rateCorrections: 0, correctiveSeeks: 0 })).toBe('No corrections needed');
    expect(corrections({ rateCorrections: 1, correctiveSeeks: 0 })).toBe('Kept in step: 1 gentle correction');
    expect(corrections({ rateCorrections: 4, correctiveSeeks: 0 })).toBe(
      'Kept in step: 4 gentle corrections',
    );
    expect(corrections({ rateCorrections: 0, correctiveSeeks: 2 })).toBe('Kept in step: 2 jumps');
  });
});

import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { ConnectionState, FollowerStats } from '../../realtime';
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
    expect(box.textContent).toContain('1 jump, 3 speed changes');
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
});

import { act, cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { RealtimeClient } from '../client';
import { RealtimeContext, useChannel, useConnectionState } from '../react';
import type { Publication } from '../types';
import { Hand } from './hand';

function Status(): JSX.Element {
  const state = useConnectionState();
  return <p>status: {state.status}</p>;
}

function Comments({ channel, seen }: { channel: string; seen: Publication[] }): JSX.Element {
  const { subscribed } = useChannel(channel, { onPublication: (p) => seen.push(p) });
  return <p>recovered: {subscribed === null ? 'waiting' : String(subscribed.recovered)}</p>;
}

afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

describe('React hooks', () => {
  it('show the connection state and a channel, and unsubscribe on unmount', async () => {
    vi.useFakeTimers();
    const hand = new Hand();
    const client = new RealtimeClient({ url: 'ws://mydrtv.test/ws', socket: hand.factory });
    const seen: Publication[] = [];
    const view = render(
      <RealtimeContext.Provider value={client}>
        <Status />
        <Comments channel="video:v1" seen={seen} />
      </RealtimeContext.Provider>,
    );
    expect(screen.getByText('status: idle')).toBeDefined();
    await act(async () => {
      client.start();
      await vi.advanceTimersByTimeAsync(0);
      hand.accept();
    });
    expect(screen.getByText('status: connected')).toBeDefined();
    const subscribe = hand.last.sent.find((f) => f.type === 'subscribe');
    expect(subscribe).toMatchObject({ channel: 'video:v1' });
    act(() => {
      hand.reply({
        type: 'subscribed',
        id: subscribe?.id,
        channel: 'video:v1',
        epoch: 'e',
        offset: 0,
        recovered: false,
        publications: [],
      });
      hand.reply({ type: 'publication', channel: 'video:v1', epoch: 'e', offset: 1, data: { type: 'x' } });
    });
    expect(screen.getByText('recovered: false')).toBeDefined();
    expect(seen.map((p) => p.offset)).toEqual([1]);
    view.unmount();
    expect(hand.last.sent.at(-1)).toMatchObject({ type: 'unsubscribe', channel: 'video:v1' });
    client.close();
  });
});

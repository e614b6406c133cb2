import { afterEach, describe, expect, it, vi } from 'vitest';

import { RealtimeClient, RealtimeError } from '../client';
import { PartySession } from '../party';
import type { PartyChat, PartyReaction, PartyState } from '../types';
import { firstChannel, party } from './fixtures';
import { Hand } from './hand';
import { replays } from './replay';
import { collect, next } from './wait';

const QUIET = { burst: 4, burstGapMs: 1, syncEveryMs: 1e9, statusEveryMs: 1e9 };

let client: RealtimeClient | null = null;
let session: PartySession | null = null;
afterEach(() => {
  session?.leave();
  client?.close();
  session = null;
  client = null;
  vi.useRealTimers();
});

describe('a watch party against recorded frames', () => {
  it('syncs the clock, reports status, fetches the state, commands, chats and reacts', async () => {
    const { factory, sockets } = replays([party]);
    client = new RealtimeClient({
      url: 'ws://mydrtv.test/ws',
      socket: factory,
      token: () => Promise.resolve('<token-3>'),
    });
    const partyId = firstChannel(party).slice('party:'.length);
    session = new PartySession(client, partyId, QUIET);
    const states = collect(session.events, 'state');
    const clocks = collect(session.events, 'clock');
    const fetched = next(session.events, 'state', (s: PartyState) => s.revision >= 2);
    session.join();
    client.start();
    await fetched;
    await vi.waitFor(() => expect(sockets[0]?.sent.filter((f) => f.type === 'party_get')).toHaveLength(1));
    await next(client.events, 'message', (m) => m.type === 'party_state');
    expect(clocks).toHaveLength(4);
    expect(session.clock.estimate()?.samples).toBe(4);
    expect(session.serverNow()).not.toBeNull();
    const status = sockets[0]?.sent.find((f) => f.type === 'party_status');
    expect(status).toMatchObject({ buffering: false });
    expect(typeof status?.rtt_ms).toBe('number');

    const played = await session.play();
    expect(played.playback.playing).toBe(true);
    const sought = await session.seek(12.5);
    expect(sought.playback.position).toBe(12.5);
    const faster = await session.setRate(1.5);
    expect(faster.playback.rate).toBe(1.5);
    const paused = await session.pause();
    expect(paused.playback.playing).toBe(false);
    expect(session.current?.revision).toBe(paused.revision);

    const stale = await client
      .request({
        type: 'party_command',
        party: partyId,
        action: 'play',
        version: paused.playback.version - 1,
      })
      .catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(RealtimeError);
    expect(stale).toMatchObject({ code: 'stale_version', details: { version: paused.playback.version } });

    const chatted = next(session.events, 'chat');
    expect(await session.chat('hello party')).toBe(1);
    expect(((await chatted) as PartyChat).text).toBe('hello party');
    const reacted = next(session.events, 'reaction');
    await session.react('🎉', 3);
    expect(await reacted).toMatchObject({ emoji: '🎉', position: 3 } satisfies Partial<PartyReaction>);
    await expect(client.presence(firstChannel(party))).resolves.toMatchObject({ count: 1 });

    // Every state taken was newer than the one before: replies and publications of the same
    // revision were not applied twice.
    const revisions = states.map((s) => s.revision);
    expect(revisions).toEqual([...new Set(revisions)].sort((a, b) => a - b));
    expect(sockets[0]?.mismatches).toEqual([]);
    expect(sockets[0]?.finished).toBe(true);
  });
});

describe('party commands', () => {
  it('fetches the state and sends once more when the version was stale', async () => {
    vi.useFakeTimers();
    const hand = new Hand();
    client = new RealtimeClient({ url: 'ws://mydrtv.test/ws', socket: hand.factory });
    session = new PartySession(client, 'p1', QUIET);
    client.start();
    await vi.advanceTimersByTimeAsync(0);
    hand.accept();
    const state = (revision: number, version: number, playing: boolean): Record<string, unknown> => ({
      id: 'p1',
      revision,
      playback: { video_id: 'v', duration: 60, playing, position: 0, at: 0, rate: 1, version },
    });
    const sent = hand.last.sent;
    const command = session.play();
    await vi.advanceTimersByTimeAsync(0);
    // No state yet: it asks for one first.
    expect(sent.at(-1)).toMatchObject({ type: 'party_get', party: 'p1' });
    hand.reply({ type: 'party_state', id: sent.at(-1)?.id, party: 'p1', state: state(3, 2, false) });
    await vi.advanceTimersByTimeAsync(0);
    expect(sent.at(-1)).toMatchObject({ type: 'party_command', action: 'play', version: 2 });
    hand.reply({
      type: 'error',
      id: sent.at(-1)?.id,
      code: 'stale_version',
      message: 'at 3',
      details: { version: 3 },
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(sent.at(-1)).toMatchObject({ type: 'party_get' });
    hand.reply({ type: 'party_state', id: sent.at(-1)?.id, party: 'p1', state: state(5, 3, false) });
    await vi.advanceTimersByTimeAsync(0);
    expect(sent.at(-1)).toMatchObject({ type: 'party_command', action: 'play', version: 3 });
    hand.reply({ type: 'party_state', id: sent.at(-1)?.id, party: 'p1', state: state(6, 4, true) });
    await expect(command).resolves.toMatchObject({ revision: 6 });
    expect(session.current?.revision).toBe(6);
  });
});

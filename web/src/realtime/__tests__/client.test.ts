import { afterEach, describe, expect, it, vi } from 'vitest';

import {
  RealtimeClient,
  RealtimeError,
  type ConnectionState,
  type SocketFactory,
  type SocketHandlers,
  type SubscribedInfo,
  type TokenReason,
} from '../client';
import type { Publication } from '../types';
import {
  badFirstFrame,
  firstChannel,
  invalidToken,
  recoverAfter,
  recoverBefore,
  recoverFailed,
  shutdown,
  userChannel,
  videoChannel,
} from './fixtures';
import { receives, replays, type Fixture, type ReplaySocket } from './replay';
import { Hand } from './hand';
import { collect, next } from './wait';

const URL = 'ws://mydrtv.test/ws';
const QUICK = { baseMs: 5, maxMs: 40, immediateMaxMs: 2 };

/** A token provider that hands out `tokens` in order and records why it was asked. */
function tokens(...values: Array<string | null>): {
  provider: (reason: TokenReason) => Promise<string | null>;
  asked: TokenReason[];
} {
  const asked: TokenReason[] = [];
  return {
    asked,
    provider: (reason) => {
      asked.push(reason);
      const value = values.shift();
      return value === undefined ? new Promise(() => undefined) : Promise.resolve(value);
    },
  };
}

function expectReplayed(socket: ReplaySocket | undefined): void {
  expect(socket).toBeDefined();
  expect(socket?.mismatches).toEqual([]);
  expect(socket?.finished).toBe(true);
}

function recordedPublications(fixture: Fixture): Publication[] {
  return receives(fixture).filter((frame) => frame.type === 'publication') as unknown as Publication[];
}

let client: RealtimeClient | null = null;
afterEach(() => {
  client?.close();
  client = null;
  vi.useRealTimers();
});

describe('against recorded frames', () => {
  it('follows a video channel anonymously: publications in order, presence, ping, errors', async () => {
    const { factory, sockets } = replays([videoChannel]);
    client = new RealtimeClient({ url: URL, socket: factory, token: tokens(null).provider });
    const name = firstChannel(videoChannel);
    const channel = client.subscribe(name);
    const published = collect(channel.events, 'publication');
    const subscribed = next(channel.events, 'subscribed');
    client.start();
    const info = await subscribed;
    expect(info).toMatchObject({ resumed: false, recovered: false, offset: 0 });
    expect(client.state).toMatchObject({ status: 'connected', user: null });

    const expected = recordedPublications(videoChannel);
    await next(channel.events, 'publication', (p) => p.offset === expected.at(-1)?.offset);
    expect(published.map((p) => (p.data as { type: string }).type)).toEqual([
      'comment.created',
      'comment.edited',
      'rating',
      'comment.removed',
    ]);
    expect(published.map((p) => p.offset)).toEqual([1, 2, 3, 4]);
    expect(channel.position).toEqual({ epoch: expected[0]?.epoch, offset: 4 });

    const presence = await client.presence(name);
    expect(presence).toMatchObject({ count: 1, users: [] });
    await expect(client.ping()).resolves.toMatchObject({ type: 'pong' });
    const refused = async (request: Promise<unknown>, code: string): Promise<void> => {
      const error: unknown = await request.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RealtimeError);
      expect((error as RealtimeError).code).toBe(code);
    };
    await refused(client.request({ type: 'subscribe', channel: 'video:not a channel!' }), 'invalid_channel');
    await refused(client.request({ type: 'subscribe', channel: name }), 'already_subscribed');
    const userName = firstChannel(userChannel);
    await refused(client.request({ type: 'subscribe', channel: userName }), 'unauthenticated');
    await refused(client.request({ type: 'nonsense' } as never), 'malformed');
    await expect(client.request({ type: 'unsubscribe', channel: name })).resolves.toMatchObject({
      type: 'unsubscribed',
    });
    expectReplayed(sockets[0]);
  });

  it('recovers after a drop: the missed publications once, in order, then live ones', async () => {
    const { factory, sockets } = replays([recoverBefore, recoverAfter]);
    const auth = tokens('<token-1>', '<token-1>');
    client = new RealtimeClient({ url: URL, socket: factory, token: auth.provider, backoff: QUICK });
    const name = firstChannel(recoverBefore);
    const channel = client.subscribe(name);
    const published = collect(channel.events, 'publication');
    const infos = collect(channel.events, 'subscribed');
    const joins = collect(channel.events, 'join');
    const live = recordedPublications(recoverBefore)[0];
    const joined = next(channel.events, 'join');
    const first = next(channel.events, 'publication', (p) => p.offset === live?.offset);
    client.start();
    await joined;
    await first;
    expect(client.state.user?.handle).toBe('ada_rec');

    const states = collect(client.events, 'state');
    sockets[0]?.drop();
    const rejoined = next(channel.events, 'join');
    const resumed = await next(channel.events, 'subscribed', (info) => info.resumed);
    // The last change is the attempt counter going back to 0 once every channel is back.
    expect(states.map((s) => [s.status, s.attempt])).toEqual([
      ['reconnecting', 1],
      ['connecting', 1],
      ['connected', 1],
      ['connected', 0],
    ]);
    expect(states[0]?.lastClose).toEqual({ code: 1006, reason: '', reconnect: true });
    expect(resumed.recovered).toBe(true);
    // The client asked from the last publication it handled (the replay checks the frame).
    expect(sockets[1]?.sent[1]).toMatchObject({ recover: { epoch: live?.epoch, offset: live?.offset } });
    await rejoined;
    expect(published.map((p) => p.offset)).toEqual([5, 6, 7]);
    expect(published.map((p) => (p.data as { comment: { body: string } }).comment.body)).toEqual([
      'first',
      'missed one',
      'missed two',
    ]);
    expect(infos.map((i: SubscribedInfo) => [i.resumed, i.recovered])).toEqual([
      [false, false],
      [true, true],
    ]);
    expect(joins).toHaveLength(2);
    expect(channel.position).toEqual({ epoch: live?.epoch, offset: 7 });
    expect(client.state.attempt).toBe(0);
    expect(auth.asked).toEqual(['connect', 'connect']);
    expectReplayed(sockets[0]);
    expectReplayed(sockets[1]);
  });

  it("says recovered false when the server cannot recover, and moves to the reply's position", async () => {
    const { factory, sockets } = replays([recoverFailed]);
    client = new RealtimeClient({ url: URL, socket: factory });
    const name = firstChannel(recoverFailed);
    const channel = client.channel(name);
    channel.position = { epoch: '000000000000', offset: 3 };
    client.subscribe(name);
    const subscribed = next(channel.events, 'subscribed');
    client.start();
    const info = await subscribed;
    const reply = receives(recoverFailed).find((frame) => frame.type === 'subscribed');
    expect(reply).toMatchObject({ recovered: false });
    expect(info).toEqual({ resumed: true, recovered: false, epoch: reply?.epoch, offset: reply?.offset });
    expect(channel.position).toEqual({ epoch: reply?.epoch, offset: reply?.offset });
    expectReplayed(sockets[0]);
  });

  it('refreshes its token before expiry and reports refreshes the server refuses', async () => {
    const { factory, sockets } = replays([userChannel]);
    const auth = tokens('<token-1>', '<token-3>', '<token-2>', 'not-a-jwt');
    client = new RealtimeClient({
      url: URL,
      socket: factory,
      token: auth.provider,
      refreshFraction: 1e-5, // 900 s × 1e-5 = 9 ms
      refreshRetryMs: 1,
    });
    const channel = client.subscribe(firstChannel(userChannel));
    const errors = collect(client.events, 'error');
    const joined = next(channel.events, 'join');
    const refreshed = next(client.events, 'message', (m) => m.type === 'refreshed');
    const refused = next(client.events, 'error', (e) => e.code === 'invalid_token');
    client.start();
    await joined;
    await refreshed;
    await refused;
    expect(errors.map((e) => e.code)).toEqual(['other_user', 'invalid_token']);
    expect(auth.asked.slice(0, 4)).toEqual(['connect', 'refresh', 'refresh', 'refresh']);
    expect(client.state.status).toBe('connected');
    expectReplayed(sockets[0]);
  });

  it('stops on a refused token (4500) and says why, without reconnecting', async () => {
    const { factory, sockets } = replays([invalidToken, invalidToken]);
    client = new RealtimeClient({
      url: URL,
      socket: factory,
      token: tokens('not-a-jwt').provider,
      backoff: QUICK,
    });
    client.start();
    const stopped = await next(client.events, 'state', (s) => s.status === 'stopped');
    expect(stopped.lastClose).toEqual({
      code: 4500,
      reason: 'the access token is not valid',
      reconnect: false,
    });
    expect(stopped.problem).toBe('the access token is not valid');
    expect(sockets).toHaveLength(1);
    expectReplayed(sockets[0]);
  });

  it('stops on a protocol error (4501)', async () => {
    const { factory, sockets } = replays([badFirstFrame], { ignoreSends: true });
    client = new RealtimeClient({ url: URL, socket: factory, backoff: QUICK });
    client.start();
    const stopped = await next(client.events, 'state', (s) => s.status === 'stopped');
    expect(stopped.lastClose).toEqual({
      code: 4501,
      reason: 'the first message must be connect',
      reconnect: false,
    });
    expect(sockets).toHaveLength(1);
  });

  it('comes back at once after a shutdown (4001) and resubscribes from where it was', async () => {
    let second: { sent: Array<Record<string, unknown>>; handlers: SocketHandlers } | null = null;
    const { factory: replay, sockets } = replays([shutdown]);
    const factory: SocketFactory = (url, handlers) => {
      if (sockets.length === 0) return replay(url, handlers);
      const sent: Array<Record<string, unknown>> = [];
      second = { sent, handlers };
      setTimeout(() => handlers.open(), 0);
      return {
        send: (data) => sent.push(JSON.parse(data) as Record<string, unknown>),
        close: () => undefined,
      };
    };
    const backoff = { baseMs: 60000, maxMs: 60000, immediateMaxMs: 10 };
    client = new RealtimeClient({
      url: URL,
      socket: factory,
      token: tokens('<token-3>', '<token-3>').provider,
      backoff,
    });
    const name = firstChannel(shutdown);
    client.subscribe(name);
    const disconnect = next(client.events, 'disconnect');
    const reconnecting = next(client.events, 'state', (s: ConnectionState) => s.status === 'reconnecting');
    client.start();
    expect(await disconnect).toEqual({
      type: 'disconnect',
      code: 4001,
      reason: 'the server is shutting down',
      reconnect: true,
    });
    const waiting = await reconnecting;
    expect(waiting.retryInMs).toBeLessThan(10);
    expect(waiting.lastClose).toEqual({ code: 4001, reason: 'the server is shutting down', reconnect: true });
    await next(client.events, 'state', (s) => s.status === 'connecting');
    await vi.waitFor(() => expect(second?.sent).toHaveLength(1));
    const connect = second!.sent[0] as { id: number };
    second!.handlers.message(
      JSON.stringify({ type: 'connected', id: connect.id, client: 'c2', user: null, expires_in: 900 }),
    );
    await vi.waitFor(() => expect(second?.sent).toHaveLength(2));
    const where = receives(shutdown).find((frame) => frame.type === 'subscribed');
    expect(second!.sent[1]).toMatchObject({
      type: 'subscribe',
      channel: name,
      recover: { epoch: where?.epoch, offset: where?.offset },
    });
    expectReplayed(sockets[0]);
  });
});

describe('reconnecting', () => {
  it('backs off exponentially with jitter, up to the cap, and starts afresh once stable', async () => {
    vi.useFakeTimers();
    const hand = new Hand();
    const randoms = [0, 0.999, 0.5, 0, 0, 0, 0.25];
    client = new RealtimeClient({ url: URL, socket: hand.factory, random: () => randoms.shift() ?? 0 });
    const delays = collect(client.events, 'state');
    client.start();
    await vi.advanceTimersByTimeAsync(0);
    for (let i = 0; i < 6; i += 1) {
      hand.drop();
      const wait = client.state.retryInMs ?? -1;
      await vi.advanceTimersByTimeAsync(wait);
    }
    const waits = delays.filter((s) => s.status === 'reconnecting').map((s) => Math.round(s.retryInMs ?? -1));
    // base 1 s doubling (1, 2, 4, 8, 16, 30 capped) × (0.5 + random)
    expect(waits).toEqual([500, 2998, 4000, 4000, 8000, 15000]);
    expect(hand.sockets).toHaveLength(7);
    hand.accept(); // no channels: stable at once
    expect(client.state.attempt).toBe(0);
    hand.drop();
    expect(Math.round(client.state.retryInMs ?? -1)).toBe(750); // back to 1 s × (0.5 + 0.25)
  });

  it("obeys the server's disconnect.reconnect over the code's range, and unknown codes by their group", async () => {
    vi.useFakeTimers();
    const hand = new Hand();
    client = new RealtimeClient({ url: URL, socket: hand.factory, random: () => 0 });
    client.start();
    await vi.advanceTimersByTimeAsync(0);
    hand.accept();
    hand.drop(4400, { reason: 'do not come back', reconnect: false });
    expect(client.state).toMatchObject({ status: 'stopped', problem: 'do not come back' });
    client.start();
    await vi.advanceTimersByTimeAsync(0);
    hand.accept();
    hand.drop(4499);
    expect(client.state.status).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(client.state.retryInMs ?? 0);
    hand.accept();
    hand.drop(4777);
    expect(client.state.status).toBe('stopped');
    expect(hand.sockets).toHaveLength(3);
  });

  it('asks for a new token after 4005 (expired)', async () => {
    vi.useFakeTimers();
    const hand = new Hand();
    const auth = tokens('t1', 't2');
    client = new RealtimeClient({ url: URL, socket: hand.factory, token: auth.provider, random: () => 0 });
    client.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(hand.last.sent[0]).toMatchObject({ type: 'connect', token: 't1' });
    hand.accept(900);
    hand.drop(4005, { reason: 'the access token expired', reconnect: true });
    await vi.advanceTimersByTimeAsync(client.state.retryInMs ?? 0);
    expect(auth.asked).toEqual(['connect', 'expired']);
    expect(hand.last.sent[0]).toMatchObject({ type: 'connect', token: 't2' });
  });

  it("goes by the disconnect frame's code when the close itself arrives as 1006", async () => {
    vi.useFakeTimers();
    const hand = new Hand();
    const auth = tokens('t1', 't2');
    client = new RealtimeClient({ url: URL, socket: hand.factory, token: auth.provider, random: () => 0 });
    client.start();
    await vi.advanceTimersByTimeAsync(0);
    hand.accept(900);
    hand.drop(1006, { code: 4005, reason: 'the access token expired', reconnect: true });
    expect(client.state.lastClose).toEqual({
      code: 4005,
      reason: 'the access token expired',
      reconnect: true,
    });
    await vi.advanceTimersByTimeAsync(client.state.retryInMs ?? 0);
    expect(auth.asked).toEqual(['connect', 'expired']);
  });
});

describe('requests', () => {
  it('times out a request without an answer, and fails pending ones when the socket closes', async () => {
    vi.useFakeTimers();
    const hand = new Hand();
    client = new RealtimeClient({ url: URL, socket: hand.factory, requestTimeoutMs: 1000, random: () => 0 });
    client.start();
    await vi.advanceTimersByTimeAsync(0);
    hand.accept();
    const slow = client.ping().catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(1000);
    expect(await slow).toMatchObject({ code: 'timeout' });
    const cut = client.ping().catch((e: unknown) => e);
    hand.drop();
    expect(await cut).toMatchObject({ code: 'connection_closed' });
    await expect(client.ping()).rejects.toMatchObject({ code: 'not_connected' });
  });

  it('gives up on a connect the server never answers, and comes back after the backoff', async () => {
    vi.useFakeTimers();
    const hand = new Hand();
    client = new RealtimeClient({ url: URL, socket: hand.factory, requestTimeoutMs: 1000, random: () => 0 });
    client.start();
    await vi.advanceTimersByTimeAsync(1000);
    expect(hand.last.closed).toBe(1000);
    hand.last.handlers.close(1000, 'no answer'); // the close handshake's echo
    expect(client.state).toMatchObject({ status: 'reconnecting', retryInMs: 500 });
    await vi.advanceTimersByTimeAsync(500);
    expect(hand.sockets).toHaveLength(2);
  });

  it('stops with a reason when the socket cannot even be made', async () => {
    client = new RealtimeClient({
      url: 'not a url',
      socket: () => {
        throw new SyntaxError('invalid URL');
      },
    });
    const stopped = next(client.events, 'state', (s) => s.status === 'stopped');
    client.start();
    expect((await stopped).problem).toBe('cannot open the connection: invalid URL');
  });

  it('ignores a publication it has already handled and frames of unknown types', async () => {
    vi.useFakeTimers();
    const hand = new Hand();
    client = new RealtimeClient({ url: URL, socket: hand.factory });
    const channel = client.subscribe('video:v1');
    const published = collect(channel.events, 'publication');
    client.start();
    await vi.advanceTimersByTimeAsync(0);
    hand.accept();
    const subscribe = hand.last.sent[1];
    hand.reply({
      type: 'subscribed',
      id: subscribe?.id,
      channel: 'video:v1',
      epoch: 'e',
      offset: 3,
      recovered: false,
      publications: [],
    });
    const publication = (offset: number): Record<string, unknown> => ({
      type: 'publication',
      channel: 'video:v1',
      epoch: 'e',
      offset,
      data: { type: 'slow_mode', video_id: 'v1', seconds: offset },
    });
    hand.reply(publication(3));
    hand.reply(publication(4));
    hand.reply({ type: 'something_new', channel: 'video:v1' });
    hand.last.handlers.message('not json');
    hand.reply(publication(4));
    hand.reply({ ...publication(1), epoch: 'f' }); // a new epoch after a quiet spell: go on from it
    expect(published.map((p) => [p.epoch, p.offset])).toEqual([
      ['e', 4],
      ['f', 1],
    ]);
  });
});

/**
 * The realtime protocol client (docs/protocol.md): one socket, `connect` with a token from the
 * app's auth session, `refresh` before expiry, subscriptions that recover by epoch and offset
 * across reconnects, reconnects with backoff and jitter that honour `disconnect.reconnect` and the
 * close-code table, and requests with ids whose replies resolve promises.
 */

import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff';
import { browserClock, type Exchange } from './clock';
import { closeAction, describeClose } from './closeCodes';
import { Emitter } from './emitter';
import {
  parseServerFrame,
  type ClientMessage,
  type Connected,
  type Disconnect,
  type ErrorFrame,
  type EventFrame,
  type Join,
  type Leave,
  type PartyReaction,
  type PartySent,
  type PartyStateReply,
  type Pong,
  type Position,
  type PresenceState,
  type Publication,
  type Refreshed,
  type Reply,
  type Request,
  type ServerMessage,
  type Subscribed,
  type TimeSynced,
  type Unsubscribed,
  type UserRef,
} from './types';

// ---- the socket ------------------------------------------------------------------------------

export interface SocketHandlers {
  open(): void;
  message(data: unknown): void;
  close(code: number, reason: string): void;
}

/** What the client needs of a websocket; a browser `WebSocket` through `browserSocket`, or a fake. */
export interface SocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type SocketFactory = (url: string, handlers: SocketHandlers) => SocketLike;

export const browserSocket: SocketFactory = (url, handlers) => {
  const socket = new WebSocket(url);
  socket.onopen = () => handlers.open();
  socket.onmessage = (event) => handlers.message(event.data);
  socket.onclose = (event) => handlers.close(event.code, event.reason);
  return socket;
};

// ---- public types ----------------------------------------------------------------------------

/**
 * Why the client asks for a token: to connect (or reconnect), to refresh before expiry, or to
 * reconnect after 4005 (the token expired).
 */
export type TokenReason = 'connect' | 'refresh' | 'expired';

/**
 * Gives the access token to connect or refresh with, or null to connect anonymously. For
 * "connect" a token that is still valid will do; for "refresh" and "expired" it must return a
 * new one (rotate with the refresh token first). A provider that throws stops the client.
 */
export type TokenProvider = (reason: TokenReason) => Promise<string | null>;

export interface ClientOptions {
  /** `ws://host:port/ws` or `wss://...`. The token never goes in the URL. */
  url: string;
  token?: TokenProvider;
  socket?: SocketFactory;
  /** How long a request waits for its reply before it fails with `timeout`. */
  requestTimeoutMs?: number;
  backoff?: BackoffOptions;
  random?: () => number;
  /** The client clock for `time_sync` (ms, monotonic with a fixed origin). */
  now?: () => number;
  /** Refresh the token at this fraction of its lifetime (2/3 leaves room for retries). */
  refreshFraction?: number;
  /** Wait this long before trying a failed refresh again (ms). */
  refreshRetryMs?: number;
}

export type ConnectionStatus =
  /** Not started, or closed by the app. */
  | 'idle'
  | 'connecting'
  | 'connected'
  /** Waiting out the backoff before the next attempt. */
  | 'reconnecting'
  /** A terminal close (or no token): the app must change something, then call `start()`. */
  | 'stopped';

export interface CloseInfo {
  code: number;
  reason: string;
  reconnect: boolean;
}

export interface ConnectionState {
  status: ConnectionStatus;
  /** Failed attempts since the last stable connection. */
  attempt: number;
  user: UserRef | null;
  client: string | null;
  /** The last close, with the server's reason when it gave one. */
  lastClose: CloseInfo | null;
  /** Words for a person when the client stopped or is waiting to come back. */
  problem: string | null;
  /** Delay before the next attempt, while `reconnecting`. */
  retryInMs: number | null;
}

/** A request that failed: the server's error `code` (or `timeout`, `connection_closed`, `not_connected`). */
export class RealtimeError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> | null = null,
  ) {
    super(message);
    this.name = 'RealtimeError';
  }
}

export interface ReplyOf {
  connect: Connected;
  subscribe: Subscribed;
  unsubscribe: Unsubscribed;
  presence: PresenceState;
  refresh: Refreshed;
  ping: Pong;
  time_sync: TimeSynced;
  party_get: PartyStateReply;
  party_command: PartyStateReply;
  party_status: PartyStateReply;
  party_chat: PartySent;
  party_react: PartySent;
}

/** Told to a channel's listeners each time a subscription is confirmed (first time and after reconnects). */
export interface SubscribedInfo {
  /** True when the subscribe asked to recover (a resubscribe after a reconnect). */
  resumed: boolean;
  /**
   * True when every missed publication follows. False: reload the channel's state by REST
   * (always so for a first subscription, which has nothing to recover).
   */
  recovered: boolean;
  epoch: string;
  offset: number;
}

export interface ChannelEvents {
  subscribed: SubscribedInfo;
  publication: Publication;
  event: EventFrame;
  join: Join;
  leave: Leave;
  reaction: PartyReaction;
  /** The server refused the subscription (the channel is dropped). */
  error: RealtimeError;
}

export interface ClientEvents {
  state: ConnectionState;
  /** Every frame from the server, after the client handled it. */
  message: ServerMessage;
  disconnect: Disconnect;
  /** `error` frames that answer no request of ours (`id` null), and failed token refreshes. */
  error: RealtimeError;
}

/** A channel the app wants: where it stopped, and who listens. */
export class Channel {
  readonly events = new Emitter<ChannelEvents>();
  position: Position | null = null;
  subscribed = false;
  users = 0;

  constructor(readonly name: string) {}

  on<K extends keyof ChannelEvents>(name: K, listener: (value: ChannelEvents[K]) => void): () => void {
    return this.events.on(name, listener);
  }
}

interface Pending {
  type: string;
  resolve: (reply: Reply, receivedAt: number) => void;
  reject: (error: RealtimeError) => void;
  timer: ReturnType<typeof setTimeout>;
}

const CHANNEL_NAME = /^(video|party|user):[A-Za-z0-9_-]{1,64}$/;

export function isChannelName(name: string): boolean {
  return CHANNEL_NAME.test(name);
}

// ---- the client ------------------------------------------------------------------------------

export class RealtimeClient {
  readonly events = new Emitter<ClientEvents>();
  private readonly options: Required<Omit<ClientOptions, 'token'>> & { token: TokenProvider | undefined };
  private readonly channels = new Map<string, Channel>();
  private readonly pending = new Map<number, Pending>();
  private socket: SocketLike | null = null;
  private generation = 0;
  private nextId = 1;
  private closing = false;
  private disconnectFrame: Disconnect | null = null;
  private tokenReason: TokenReason = 'connect';
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;
  private awaitingSubscriptions = 0;
  private current: ConnectionState = {
    status: 'idle',
    attempt: 0,
    user: null,
    client: null,
    lastClose: null,
    problem: null,
    retryInMs: null,
  };

  constructor(options: ClientOptions) {
    this.options = {
      url: options.url,
      token: options.token,
      socket: options.socket ?? browserSocket,
      requestTimeoutMs: options.requestTimeoutMs ?? 10000,
      backoff: options.backoff ?? DEFAULT_BACKOFF,
      random: options.random ?? Math.random,
      now: options.now ?? browserClock,
      refreshFraction: options.refreshFraction ?? 2 / 3,
      refreshRetryMs: options.refreshRetryMs ?? 5000,
    };
  }

  get state(): ConnectionState {
    return this.current;
  }

  /** The client clock it stamps `time_sync` with. */
  now(): number {
    return this.options.now();
  }

  on<K extends keyof ClientEvents>(name: K, listener: (value: ClientEvents[K]) => void): () => void {
    return this.events.on(name, listener);
  }

  /** Connect (again, after `stopped`: once the cause, a sign-in say, is fixed). */
  start(): void {
    if (this.current.status === 'connecting' || this.current.status === 'connected') return;
    this.clearRetry();
    this.closing = false;
    this.setState({ attempt: 0, problem: null, retryInMs: null });
    void this.open();
  }

  /** Close for good (a page going away, signing out). Subscriptions are kept for a later `start()`. */
  close(): void {
    this.closing = true;
    this.clearRetry();
    this.clearRefresh();
    const socket = this.socket;
    this.socket = null;
    this.generation += 1;
    this.failPending('connection_closed', 'the connection was closed');
    for (const channel of this.channels.values()) channel.subscribed = false;
    socket?.close(1000, 'bye');
    this.setState({ status: 'idle', retryInMs: null, client: null });
  }

  /** The channel's handle (listeners, position) without subscribing. */
  channel(name: string): Channel {
    let channel = this.channels.get(name);
    if (!channel) {
      channel = new Channel(name);
      this.channels.set(name, channel);
    }
    return channel;
  }

  /**
   * Want `name`: subscribe now if connected, and again with recovery after every reconnect.
   * Counted: each call needs its own `unsubscribe`.
   */
  subscribe(name: string): Channel {
    const channel = this.channel(name);
    channel.users += 1;
    if (channel.users === 1 && this.current.status === 'connected')
      this.sendSubscribe(channel, this.generation);
    return channel;
  }

  /** Stop wanting `name` (once every `subscribe` of it was matched). */
  unsubscribe(name: string): void {
    const channel = this.channels.get(name);
    if (!channel || channel.users === 0) return;
    channel.users -= 1;
    if (channel.users > 0) return;
    const wasSubscribed = channel.subscribed;
    channel.subscribed = false;
    channel.position = null;
    if (channel.events.count('subscribed') + channel.events.count('publication') === 0)
      this.channels.delete(name);
    if (wasSubscribed && this.current.status === 'connected') {
      this.request({ type: 'unsubscribe', channel: name }).catch(() => undefined);
    }
  }

  /** Send a request and wait for its reply; rejects with `RealtimeError` carrying the error code. */
  request<M extends Request>(message: M): Promise<ReplyOf[M['type']]> {
    return this.requestStamped(message).then(([reply]) => reply);
  }

  /** `request`, also giving the client time at which the reply arrived. */
  requestStamped<M extends Request>(message: M): Promise<[ReplyOf[M['type']], number]> {
    return this.send(message, this.generation);
  }

  presence(channel: string): Promise<PresenceState> {
    return this.request({ type: 'presence', channel });
  }

  ping(): Promise<Pong> {
    return this.request({ type: 'ping' });
  }

  /** One clock exchange: `t4` is stamped as the frame arrives, before anything else runs. */
  async timeSync(): Promise<Exchange> {
    const t1 = this.options.now();
    const [reply, t4] = await this.requestStamped({ type: 'time_sync', client_sent: t1 });
    return { t1, t2: reply.server_received, t3: reply.server_sent, t4 };
  }

  // ---- connecting ----------------------------------------------------------------------------

  private async open(): Promise<void> {
    const generation = ++this.generation;
    this.disconnectFrame = null;
    this.setState({ status: 'connecting', retryInMs: null });
    let token: string | null = null;
    if (this.options.token) {
      try {
        token = await this.options.token(this.tokenReason);
      } catch (error) {
        if (generation !== this.generation) return;
        this.setState({ status: 'stopped', problem: `no access token: ${messageOf(error)}` });
        return;
      }
    }
    if (generation !== this.generation || this.closing) return;
    try {
      this.socket = this.openSocket(generation, token);
    } catch (error) {
      this.setState({ status: 'stopped', problem: `cannot open the connection: ${messageOf(error)}` });
    }
  }

  private openSocket(generation: number, token: string | null): SocketLike {
    return this.options.socket(this.options.url, {
      open: () => {
        if (generation === this.generation) this.onOpen(generation, token);
      },
      message: (data) => {
        if (generation === this.generation) this.onFrame(data);
      },
      close: (code, reason) => {
        if (generation === this.generation) this.onClose(code, reason);
      },
    });
  }

  private onOpen(generation: number, token: string | null): void {
    // Handled as the frame arrives (not a microtask later), so nothing can slip in before it.
    this.send({ type: 'connect', token }, generation, (reply) =>
      this.onConnected(reply as Connected, generation),
    ).catch((error: RealtimeError) => {
      // A refusal comes with a close that says what to do; a server that says nothing is left
      // behind, and the close brings the backoff.
      if (error.code === 'timeout' && generation === this.generation) this.socket?.close(1000, 'no answer');
    });
  }

  private onConnected(connected: Connected, generation: number): void {
    if (generation !== this.generation) return;
    this.tokenReason = 'connect';
    this.setState({
      status: 'connected',
      user: connected.user,
      client: connected.client,
      problem: null,
      retryInMs: null,
    });
    if (connected.expires_in !== null) this.scheduleRefresh(connected.expires_in);
    const wanted = [...this.channels.values()].filter((channel) => channel.users > 0);
    this.awaitingSubscriptions = wanted.length;
    if (wanted.length === 0) this.setState({ attempt: 0 });
    for (const channel of wanted) this.sendSubscribe(channel, generation);
  }

  private sendSubscribe(channel: Channel, generation: number): void {
    const recover = channel.position ?? undefined;
    const message: Request<ClientMessage> = recover
      ? { type: 'subscribe', channel: channel.name, recover }
      : { type: 'subscribe', channel: channel.name };
    this.send(message, generation, (reply) =>
      this.onSubscribed(channel, reply as Subscribed, recover !== undefined, generation),
    ).catch((error: RealtimeError) => {
      if (error.code === 'connection_closed' || error.code === 'timeout') return;
      if (generation !== this.generation) return;
      channel.users = 0;
      channel.position = null;
      channel.subscribed = false;
      channel.events.emit('error', error);
      this.subscriptionSettled();
    });
  }

  private onSubscribed(channel: Channel, reply: Subscribed, resumed: boolean, generation: number): void {
    if (generation !== this.generation || channel.users === 0) return;
    channel.subscribed = true;
    channel.events.emit('subscribed', {
      resumed,
      recovered: reply.recovered,
      epoch: reply.epoch,
      offset: reply.offset,
    });
    if (reply.recovered) for (const publication of reply.publications) this.deliver(publication);
    // Recovered lists may skip withdrawn offsets; the reply's position is where we are now.
    channel.position = { epoch: reply.epoch, offset: reply.offset };
    this.subscriptionSettled();
  }

  private subscriptionSettled(): void {
    if (this.awaitingSubscriptions === 0) return;
    this.awaitingSubscriptions -= 1;
    // A connection that got all its channels back is stable: the next drop starts the backoff afresh.
    if (this.awaitingSubscriptions === 0) this.setState({ attempt: 0 });
  }

  // ---- frames --------------------------------------------------------------------------------

  private onFrame(data: unknown): void {
    const receivedAt = this.options.now();
    if (typeof data !== 'string') return; // the server sends text frames only
    const message = parseServerFrame(data);
    if (message === null) return; // unknown types are ignored
    if ('id' in message && typeof message.id === 'number' && message.id !== 0 && message.type !== 'error') {
      this.settle(message.id, message as Reply, receivedAt);
    }
    switch (message.type) {
      case 'error':
        this.onError(message);
        break;
      case 'publication':
        this.deliver(message);
        break;
      case 'event':
        this.forChannel(message.channel, (channel) => channel.events.emit('event', message));
        break;
      case 'join':
        this.forChannel(message.channel, (channel) => channel.events.emit('join', message));
        break;
      case 'leave':
        this.forChannel(message.channel, (channel) => channel.events.emit('leave', message));
        break;
      case 'party_reaction':
        this.forChannel(message.channel, (channel) => channel.events.emit('reaction', message));
        break;
      case 'disconnect':
        this.disconnectFrame = message;
        this.events.emit('disconnect', message);
        break;
      default:
        break;
    }
    this.events.emit('message', message);
  }

  private onError(frame: ErrorFrame): void {
    const error = new RealtimeError(frame.code, frame.message, frame.details ?? null);
    const entry = frame.id === null ? undefined : this.pending.get(frame.id);
    if (entry && frame.id !== null) {
      this.pending.delete(frame.id);
      clearTimeout(entry.timer);
      entry.reject(error);
    } else {
      this.events.emit('error', error);
    }
  }

  private settle(id: number, reply: Reply, receivedAt: number): void {
    const entry = this.pending.get(id);
    if (!entry) return;
    this.pending.delete(id);
    clearTimeout(entry.timer);
    entry.resolve(reply, receivedAt);
  }

  private forChannel(name: string, action: (channel: Channel) => void): void {
    const channel = this.channels.get(name);
    if (channel?.subscribed) action(channel);
  }

  /** Hand a publication to its channel once, in offset order, and remember where we are. */
  private deliver(publication: Publication): void {
    const channel = this.channels.get(publication.channel);
    if (!channel || channel.users === 0) return;
    const at = channel.position;
    if (at && at.epoch === publication.epoch && publication.offset <= at.offset) return; // seen already
    channel.position = { epoch: publication.epoch, offset: publication.offset };
    channel.events.emit('publication', publication);
  }

  // ---- requests ------------------------------------------------------------------------------

  /** `onReply` runs synchronously as the reply arrives, before later frames are handled. */
  private send<M extends Request>(
    message: M,
    generation: number,
    onReply?: (reply: Reply) => void,
  ): Promise<[ReplyOf[M['type']], number]> {
    return new Promise((resolve, reject) => {
      const socket = this.socket;
      const connecting = message.type === 'connect';
      if (!socket || generation !== this.generation || (!connecting && this.current.status !== 'connected')) {
        reject(new RealtimeError('not_connected', 'not connected to the realtime server'));
        return;
      }
      const id = this.nextId++;
      const timer = setTimeout(() => {
        if (this.pending.delete(id))
          reject(new RealtimeError('timeout', `no answer to ${message.type} in time`));
      }, this.options.requestTimeoutMs);
      this.pending.set(id, {
        type: message.type,
        resolve: (reply, at) => {
          onReply?.(reply);
          resolve([reply as ReplyOf[M['type']], at]);
        },
        reject,
        timer,
      });
      try {
        socket.send(JSON.stringify({ ...message, id }));
      } catch (error) {
        this.pending.delete(id);
        clearTimeout(timer);
        reject(new RealtimeError('not_connected', `could not send: ${messageOf(error)}`));
      }
    });
  }

  private failPending(code: string, message: string): void {
    const entries = [...this.pending.values()];
    this.pending.clear();
    for (const entry of entries) {
      clearTimeout(entry.timer);
      entry.reject(new RealtimeError(code, message));
    }
  }

  // ---- token refresh -------------------------------------------------------------------------

  private scheduleRefresh(expiresIn: number): void {
    this.clearRefresh();
    const generation = this.generation;
    const delay = Math.max(0, expiresIn * 1000 * this.options.refreshFraction);
    this.refreshTimer = setTimeout(() => void this.refresh(generation), delay);
  }

  private async refresh(generation: number): Promise<void> {
    if (generation !== this.generation || !this.options.token) return;
    try {
      const token = await this.options.token('refresh');
      if (token === null) throw new RealtimeError('invalid_token', 'the session has no token any more');
      const reply = await this.send({ type: 'refresh', token }, generation);
      this.scheduleRefresh(reply[0].expires_in);
    } catch (error) {
      // Try again while the old token still holds; if it runs out, the server closes with 4005
      // and the reconnect asks for a new token.
      if (generation === this.generation) {
        this.events.emit('error', asRealtimeError(error));
        this.refreshTimer = setTimeout(() => void this.refresh(generation), this.options.refreshRetryMs);
      }
    }
  }

  private clearRefresh(): void {
    if (this.refreshTimer !== null) clearTimeout(this.refreshTimer);
    this.refreshTimer = null;
  }

  // ---- closing and reconnecting --------------------------------------------------------------

  private onClose(code: number, reason: string): void {
    this.socket = null;
    this.generation += 1;
    this.clearRefresh();
    this.failPending('connection_closed', 'the connection closed before the answer came');
    for (const channel of this.channels.values()) channel.subscribed = false;
    const frame = this.disconnectFrame;
    // The `disconnect` frame's code is the server's; the close may reach us as 1006 if its close
    // frame was lost behind it.
    const cause = frame?.code ?? code;
    const action = closeAction(cause, frame?.reconnect, this.closing);
    const close: CloseInfo = {
      code: cause,
      reason: frame?.reason || reason,
      reconnect: action.kind === 'reconnect',
    };
    const words = close.reason || describeClose(cause);
    if (action.kind === 'done') {
      this.setState({ status: 'idle', lastClose: close, client: null });
      return;
    }
    if (action.kind === 'terminal') {
      this.setState({ status: 'stopped', lastClose: close, client: null, problem: words, retryInMs: null });
      return;
    }
    if (action.newToken) this.tokenReason = 'expired';
    const attempt = this.current.attempt;
    const delay = backoffDelay(attempt, this.options.random, this.options.backoff, action.immediate);
    this.setState({
      status: 'reconnecting',
      attempt: attempt + 1,
      lastClose: close,
      client: null,
      problem: words,
      retryInMs: delay,
    });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.open();
    }, delay);
  }

  private clearRetry(): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private setState(change: Partial<ConnectionState>): void {
    this.current = { ...this.current, ...change };
    this.events.emit('state', this.current);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function asRealtimeError(error: unknown): RealtimeError {
  return error instanceof RealtimeError ? error : new RealtimeError('token_unavailable', messageOf(error));
}

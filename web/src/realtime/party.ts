/**
 * A watch party on the socket (docs/protocol.md, "Watch parties"): subscribe to `party:{id}`,
 * keep the server clock (16 exchanges 30 ms apart, then one every 0.5 s, the window started again
 * on every (re)subscription), report status, fetch the state, follow new states by revision, and
 * send commands, chat and reactions.
 */

import { ClockWindow, type ClockEstimate } from './clock';
import { RealtimeError, type Channel, type RealtimeClient } from './client';
import { Emitter } from './emitter';
import { isNewer } from './partyState';
import type { PartyAction, PartyChat, PartyEvent, PartyReaction, PartyState, UserRef } from './types';

export interface PartySessionOptions {
  burst?: number;
  burstGapMs?: number;
  syncEveryMs?: number;
  statusEveryMs?: number;
}

export interface PartyEvents {
  state: PartyState;
  chat: PartyChat;
  reaction: PartyReaction;
  memberJoined: UserRef;
  memberLeft: UserRef;
  ended: string;
  clock: ClockEstimate;
  /** A background request failed (status, state fetch); commands reject their own promises instead. */
  error: RealtimeError;
}

export type CommandExtra = { position?: number; rate?: number; video_id?: string };

export class PartySession {
  readonly events = new Emitter<PartyEvents>();
  readonly clock = new ClockWindow();
  readonly channelName: string;
  private state: PartyState | null = null;
  private channel: Channel | null = null;
  private offs: Array<() => void> = [];
  private timers = new Set<ReturnType<typeof setTimeout>>();
  private syncLoop: ReturnType<typeof setInterval> | null = null;
  private statusLoop: ReturnType<typeof setInterval> | null = null;
  private buffering = false;
  private readonly options: Required<PartySessionOptions>;

  constructor(
    private readonly client: RealtimeClient,
    readonly partyId: string,
    options: PartySessionOptions = {},
  ) {
    this.channelName = `party:${partyId}`;
    this.options = {
      burst: options.burst ?? 16,
      burstGapMs: options.burstGapMs ?? 30,
      syncEveryMs: options.syncEveryMs ?? 500,
      statusEveryMs: options.statusEveryMs ?? 10000,
    };
  }

  get current(): PartyState | null {
    return this.state;
  }

  /** Server time now (ms), or null before the first clock exchange. */
  serverNow(): number | null {
    const estimate = this.clock.estimate();
    return estimate === null ? null : this.client.now() + estimate.offset;
  }

  join(): void {
    const channel = this.client.subscribe(this.channelName);
    this.channel = channel;
    this.offs.push(
      channel.on('subscribed', () => this.onSubscribed()),
      channel.on('publication', (publication) => this.onEvent(publication.data as PartyEvent)),
      channel.on('reaction', (reaction) => this.events.emit('reaction', reaction)),
      this.client.on('state', (state) => {
        if (state.status !== 'connected') this.stopLoops();
      }),
    );
  }

  leave(): void {
    this.stopLoops();
    for (const off of this.offs) off();
    this.offs = [];
    if (this.channel) this.client.unsubscribe(this.channelName);
    this.channel = null;
  }

  // ---- commands ------------------------------------------------------------------------------

  play(): Promise<PartyState> {
    return this.command('play');
  }

  pause(): Promise<PartyState> {
    return this.command('pause');
  }

  seek(position: number): Promise<PartyState> {
    return this.command('seek', { position });
  }

  setRate(rate: number): Promise<PartyState> {
    return this.command('rate', { rate });
  }

  switchVideo(videoId: string): Promise<PartyState> {
    return this.command('video', { video_id: videoId });
  }

  /**
   * Send a command against the version we know. On `stale_version` the state moved on under us:
   * fetch it and send once more, since the person's wish (pause, seek there) still stands.
   */
  async command(action: PartyAction, extra: CommandExtra = {}): Promise<PartyState> {
    const version = this.state?.playback.version ?? (await this.fetchState()).playback.version;
    try {
      return await this.sendCommand(action, version, extra);
    } catch (error) {
      if (!(error instanceof RealtimeError) || error.code !== 'stale_version') throw error;
      const fresh = await this.fetchState();
      return this.sendCommand(action, fresh.playback.version, extra);
    }
  }

  async chat(text: string, position?: number): Promise<number | null> {
    const reply = await this.client.request({
      type: 'party_chat',
      party: this.partyId,
      text,
      ...at(position),
    });
    return reply.message_id;
  }

  async react(emoji: string, position?: number): Promise<void> {
    await this.client.request({ type: 'party_react', party: this.partyId, emoji, ...at(position) });
  }

  /** Tell the party whether this player can play (sent at once when it changes). */
  setBuffering(buffering: boolean): void {
    if (buffering === this.buffering) return;
    this.buffering = buffering;
    void this.sendStatus();
  }

  async fetchState(): Promise<PartyState> {
    const reply = await this.client.request({ type: 'party_get', party: this.partyId });
    this.take(reply.state);
    return this.state ?? reply.state;
  }

  // ---- internals -----------------------------------------------------------------------------

  private async sendCommand(action: PartyAction, version: number, extra: CommandExtra): Promise<PartyState> {
    const reply = await this.client.request({
      type: 'party_command',
      party: this.partyId,
      action,
      version,
      ...extra,
    });
    this.take(reply.state);
    return reply.state;
  }

  private onSubscribed(): void {
    // A new connection (maybe another instance): start the clock window again, then status and state.
    this.stopLoops();
    this.clock.reset();
    const { burst, burstGapMs, syncEveryMs, statusEveryMs } = this.options;
    let done = 0;
    const exchanges: Array<Promise<void>> = [];
    for (let i = 0; i < burst; i += 1) {
      exchanges.push(
        new Promise((resolve) => {
          const timer = setTimeout(() => {
            this.timers.delete(timer);
            this.syncOnce().finally(() => {
              done += 1;
              resolve();
            });
          }, i * burstGapMs);
          this.timers.add(timer);
        }),
      );
    }
    void Promise.all(exchanges).then(() => {
      if (done < burst || this.channel === null || !this.channel.subscribed) return;
      void this.sendStatus();
      void this.fetchState().catch((error: unknown) => this.report(error));
      this.syncLoop = setInterval(() => void this.syncOnce(), syncEveryMs);
      this.statusLoop = setInterval(() => void this.sendStatus(), statusEveryMs);
    });
  }

  private async syncOnce(): Promise<void> {
    try {
      const exchange = await this.client.timeSync();
      this.clock.add(exchange);
      const estimate = this.clock.estimate();
      if (estimate) this.events.emit('clock', estimate);
    } catch {
      // A lost exchange is harmless: the window holds others.
    }
  }

  private async sendStatus(): Promise<void> {
    try {
      const reply = await this.client.request({
        type: 'party_status',
        party: this.partyId,
        buffering: this.buffering,
        rtt_ms: this.clock.rttP90(),
      });
      this.take(reply.state);
    } catch (error) {
      this.report(error);
    }
  }

  private onEvent(event: PartyEvent): void {
    switch (event.type) {
      case 'party.state':
        this.take(event.state);
        break;
      case 'party.chat':
        this.events.emit('chat', event.message);
        break;
      case 'party.member_joined':
        this.events.emit('memberJoined', event.member);
        break;
      case 'party.member_left':
        this.events.emit('memberLeft', event.member);
        break;
      case 'party.ended':
        this.events.emit('ended', event.party_id);
        break;
      default:
        break;
    }
  }

  /** Keep a state only if it is newer: instances may publish out of order. */
  private take(state: PartyState): void {
    if (!isNewer(state, this.state)) return;
    this.state = state;
    this.events.emit('state', state);
  }

  private report(error: unknown): void {
    if (error instanceof RealtimeError && error.code !== 'connection_closed')
      this.events.emit('error', error);
  }

  private stopLoops(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    if (this.syncLoop !== null) clearInterval(this.syncLoop);
    if (this.statusLoop !== null) clearInterval(this.statusLoop);
    this.syncLoop = null;
    this.statusLoop = null;
  }
}

function at(position: number | undefined): { position?: number } {
  return position === undefined ? {} : { position };
}

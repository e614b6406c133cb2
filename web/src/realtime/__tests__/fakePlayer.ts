/**
 * A player simulated in virtual time, shaped like HTMLVideoElement: play() takes effect after a
 * start delay, a seek takes a while, and it can stall. Lets the follower be tested without a browser.
 */

import { PartyFollower, type PlayerLike } from '../follower';
import type { SyncPolicy } from '../drift';
import { positionAt } from '../partyState';
import type { PartyState, Playback } from '../types';

export class FakePlayer implements PlayerLike {
  playbackRate = 1;
  paused = true;
  seeking = false;
  readyState = 4;
  position = 0;
  private movesFrom = 0;
  private seekingUntil = 0;
  private stalledUntil = 0;
  plays = 0;

  constructor(
    private readonly clock: { t: number },
    public startDelayMs = 0,
    public seekDelayMs = 0,
  ) {}

  get currentTime(): number {
    return this.position;
  }

  set currentTime(value: number) {
    this.position = value;
    this.seeking = this.seekDelayMs > 0;
    this.seekingUntil = this.clock.t + this.seekDelayMs;
    this.stalledUntil = 0; // a seek fetches afresh, which ends a stall
  }

  play(): Promise<void> {
    if (this.paused) this.movesFrom = this.clock.t + this.startDelayMs;
    this.paused = false;
    this.plays += 1;
    return Promise.resolve();
  }

  pause(): void {
    this.paused = true;
  }

  stall(ms: number): void {
    this.stalledUntil = this.clock.t + ms;
  }

  /** Let `ms` of virtual time pass (called once per millisecond by the simulation). */
  step(ms: number): void {
    if (this.seeking && this.clock.t >= this.seekingUntil) this.seeking = false;
    const moving =
      !this.paused && !this.seeking && this.clock.t > this.movesFrom && this.clock.t > this.stalledUntil;
    if (moving) this.position += (this.playbackRate * ms) / 1000;
  }
}

export function partyState(
  revision: number,
  playback: Partial<Playback>,
  over: Partial<PartyState> = {},
): PartyState {
  return {
    id: 'p',
    revision,
    host: 'h',
    control: 'host',
    wait_for_buffering: true,
    members: [],
    playback: {
      video_id: 'v',
      duration: 600,
      playing: false,
      position: 0,
      at: 0,
      rate: 1,
      version: revision,
      ...playback,
    },
    wants_to_play: playback.playing ?? false,
    waiting: false,
    buffering: [],
    ...over,
  };
}

/** A follower driving a fake player in virtual time, ticking every 50 ms and at each wake-up. */
export class Simulation {
  readonly clock = { t: 0 };
  readonly player: FakePlayer;
  readonly follower: PartyFollower;
  /** Server clock minus client clock: the follower is given server time, as after clock sync. */
  readonly offset = 7000;
  readonly drifts: Array<{ t: number; driftMs: number }> = [];
  private lastWake: number | null = null;

  constructor(
    policy: SyncPolicy,
    player: { startDelayMs?: number; seekDelayMs?: number } = {},
    onBuffering?: (buffering: boolean) => void,
  ) {
    this.player = new FakePlayer(this.clock, player.startDelayMs ?? 0, player.seekDelayMs ?? 0);
    this.follower = new PartyFollower(this.player, {
      policy,
      serverNow: () => this.serverNow(),
      ...(onBuffering ? { onBuffering } : {}),
    });
  }

  serverNow(): number {
    return this.clock.t + this.offset;
  }

  /** Run until server time `until`, recording the drift after every tick while playing. */
  runUntil(until: number): void {
    while (this.serverNow() < until) {
      this.clock.t += 1;
      this.player.step(1);
      const wake = this.follower.nextWake();
      const woke = wake !== null && this.serverNow() >= wake && this.lastWake !== wake;
      if (woke) this.lastWake = wake;
      if (woke || this.clock.t % 50 === 0) {
        this.follower.tick();
        const playback = this.follower.current?.playback;
        if (playback && playback.at <= this.serverNow()) {
          this.drifts.push({ t: this.serverNow(), driftMs: this.driftMs(playback) });
        }
      }
    }
  }

  driftMs(playback: Playback): number {
    return (this.player.position - positionAt(playback, this.serverNow())) * 1000;
  }

  /** The largest |drift| seen at or after server time `from`. */
  worstDriftSince(from: number): number {
    return Math.max(...this.drifts.filter((d) => d.t >= from).map((d) => Math.abs(d.driftMs)));
  }
}

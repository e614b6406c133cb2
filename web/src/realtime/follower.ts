/**
 * Steers a player to the party's state (docs/protocol.md, "Following the state"): prepares jumps
 * ahead of time, starts at `at` minus the learned start latency, then corrects drift by rate or
 * by seek with `decideDrift`. Works on anything shaped like an HTMLVideoElement, so it is tested
 * without a browser.
 */

import { decideDrift, MYDRTV_POLICY, type SyncPolicy } from './drift';
import { isNewer, jumps, positionAt } from './partyState';
import type { PartyState, Playback } from './types';

/** The part of HTMLVideoElement the follower uses. */
export interface PlayerLike {
  currentTime: number;
  playbackRate: number;
  readonly paused: boolean;
  readonly seeking?: boolean;
  /** HTMLMediaElement.readyState: 3 (HAVE_FUTURE_DATA) or more can play. */
  readonly readyState?: number;
  play(): Promise<void> | void;
  pause(): void;
}

export interface FollowerOptions {
  policy?: SyncPolicy;
  /** Server time now (ms), or null while the clock is not known yet. */
  serverNow: () => number | null;
  /** Starting guesses for the latencies the follower learns (ms). */
  startLatencyMs?: number;
  seekLatencyMs?: number;
  /** Told when the player's readiness changes, for `party_status.buffering`. */
  onBuffering?: (buffering: boolean) => void;
  /** How long the player must fail to play before it counts as buffering (ms). */
  bufferingAfterMs?: number;
}

export interface FollowerStats {
  /** Seeks to correct drift while playing (the ones viewers notice). */
  correctiveSeeks: number;
  /** Seeks while paused or ahead of a scheduled jump. */
  quietSeeks: number;
  /** Times the playback rate was changed to correct drift (one correction may step it several times). */
  rateChanges: number;
  /** Corrections by rate: times the rate left the party's rate (its steps back do not count). */
  rateCorrections: number;
  /** Pauses the follower made (each one asked for by a state). */
  pauses: number;
  plays: number;
  lastDriftMs: number | null;
  startLatencyMs: number;
  seekLatencyMs: number;
}

const MAX_LATENCY_MS = 2000;
/** A player that has not moved this long after play() is stuck, not late: stop waiting to measure it. */
const MEASURE_GIVE_UP_MS = 1000;
/** A player within this of a rate counts as at it (browsers round playbackRate). */
const RATE_EPSILON = 1e-4;

export class PartyFollower {
  private readonly policy: SyncPolicy;
  private state: PartyState | null = null;
  /** The playback followed until the latest state's `at` comes. */
  private previous: Playback | null = null;
  private correcting = false;
  /** A start or seek whose lateness the next drift will tell, once the player has moved. */
  private measure: { kind: 'start' | 'seek'; from: number; since: number } | null = null;
  private notPlayingSince: number | null = null;
  private buffering = false;
  readonly stats: FollowerStats;

  constructor(
    private readonly player: PlayerLike,
    private readonly options: FollowerOptions,
  ) {
    this.policy = options.policy ?? MYDRTV_POLICY;
    this.stats = {
      correctiveSeeks: 0,
      quietSeeks: 0,
      rateChanges: 0,
      rateCorrections: 0,
      pauses: 0,
      plays: 0,
      lastDriftMs: null,
      startLatencyMs: options.startLatencyMs ?? 0,
      seekLatencyMs: options.seekLatencyMs ?? 0,
    };
  }

  get current(): PartyState | null {
    return this.state;
  }

  /** Take a new state (ignored unless its revision is higher). Returns whether it was taken. */
  setState(next: PartyState): boolean {
    if (!isNewer(next, this.state)) return false;
    const before = this.state?.playback ?? null;
    const now = this.options.serverNow();
    const ahead = now !== null && next.playback.at > now;
    if (before && before.version === next.playback.version) {
      // Nothing about playback changed (a member joined, a report came): keep following it.
      this.state = next;
      return true;
    }
    this.previous = ahead ? before : null;
    this.state = next;
    if (ahead && jumps(before, next.playback)) {
      // Load the new place now, so the player is ready when everyone starts.
      this.previous = null;
      this.pausePlayer();
      this.seekTo(next.playback.position, false);
    }
    this.tick();
    return true;
  }

  /** When the next exact tick is due (server ms): the latest state's `at`, minus the start latency. */
  nextWake(): number | null {
    const playback = this.state?.playback;
    if (!playback) return null;
    return playback.playing ? playback.at - this.startLead() : playback.at;
  }

  /** One step of the loop: run it at least every 250 ms, and at each `nextWake()`. */
  tick(): void {
    const now = this.options.serverNow();
    const state = this.state;
    if (now === null || state === null) return;
    const latest = state.playback;
    this.trackBuffering(state.wants_to_play, now);
    if (now >= latest.at) {
      this.previous = null;
      this.follow(latest, now);
    } else if (latest.playing && now >= latest.at - this.startLead() && !this.previous?.playing) {
      this.start(latest, now); // early by the player's start latency
    } else if (this.previous) {
      this.follow(this.previous, now);
    } else {
      this.hold(latest, now); // a jump ahead: wait at its position
    }
  }

  private follow(playback: Playback, now: number): void {
    if (!playback.playing) this.hold(playback, now);
    else if (this.player.paused) this.start(playback, now);
    else this.correct(playback, now);
  }

  /** Paused where the state says (seeking is free while paused). */
  private hold(playback: Playback, now: number): void {
    this.correcting = false;
    this.pausePlayer();
    if (this.player.seeking) return;
    const target = playback.playing ? playback.position : positionAt(playback, now);
    const action = decideDrift(
      {
        expected: target,
        actual: this.player.currentTime,
        rate: playback.rate,
        now,
        playing: false,
        correcting: false,
      },
      this.policy,
    );
    this.stats.lastDriftMs = action.driftMs;
    if (action.kind === 'seek') this.seekTo(action.position, false);
  }

  /** Play; the first drift measured after it tells how late the player started. */
  private start(playback: Playback, now: number): void {
    if (!this.player.paused) return;
    this.setRate(playback.rate);
    this.stats.plays += 1;
    this.measure = { kind: 'start', from: this.player.currentTime, since: now };
    void Promise.resolve(this.player.play()).catch(() => undefined);
  }

  private correct(playback: Playback, now: number): void {
    if (this.player.seeking) return;
    const measuring = this.measure;
    if (measuring && this.player.currentTime === measuring.from) {
      // Started (or sought) but not moving yet: its drift would say nothing about its latency.
      if (now - measuring.since < MEASURE_GIVE_UP_MS) return;
      this.measure = null;
    }
    const target = positionAt(playback, now);
    const action = decideDrift(
      {
        expected: target,
        actual: this.player.currentTime,
        rate: playback.rate,
        now,
        playing: true,
        correcting: this.correcting,
        seekLatencyMs: this.stats.seekLatencyMs,
        duration: playback.duration,
      },
      this.policy,
    );
    this.stats.lastDriftMs = action.driftMs;
    this.learn(action.driftMs);
    if (action.kind === 'seek') {
      this.correcting = false;
      this.setRate(playback.rate);
      this.stats.correctiveSeeks += 1;
      this.seekTo(action.position, true);
      this.measure = { kind: 'seek', from: action.position, since: now };
    } else if (action.kind === 'rate') {
      this.correcting = true;
      if (Math.abs(this.player.playbackRate - action.rate) > RATE_EPSILON) {
        if (Math.abs(this.player.playbackRate - playback.rate) <= RATE_EPSILON)
          this.stats.rateCorrections += 1;
        this.stats.rateChanges += 1;
        this.player.playbackRate = action.rate;
      }
    } else {
      this.correcting = false;
      this.setRate(playback.rate);
    }
  }

  /** Take half of the error after a start or a seek into that latency's estimate. */
  private learn(driftMs: number): void {
    if (this.measure === null) return;
    const kind = this.measure.kind;
    this.measure = null;
    if (!this.policy.compensate) return;
    const key = kind === 'start' ? 'startLatencyMs' : 'seekLatencyMs';
    const learned = this.stats[key] - driftMs / 2;
    this.stats[key] = Math.min(MAX_LATENCY_MS, Math.max(0, learned));
  }

  private startLead(): number {
    return this.policy.compensate ? this.stats.startLatencyMs : 0;
  }

  private trackBuffering(wantsToPlay: boolean, now: number): void {
    const ready = (this.player.readyState ?? 4) >= 3;
    const stuck = wantsToPlay && !ready && !(this.player.seeking && this.measure?.kind === 'seek');
    if (!stuck) {
      this.notPlayingSince = null;
      this.setBuffering(false);
      return;
    }
    this.notPlayingSince ??= now;
    if (now - this.notPlayingSince >= (this.options.bufferingAfterMs ?? 500)) this.setBuffering(true);
  }

  private setBuffering(buffering: boolean): void {
    if (buffering === this.buffering) return;
    this.buffering = buffering;
    this.options.onBuffering?.(buffering);
  }

  private pausePlayer(): void {
    if (this.player.paused) return;
    this.stats.pauses += 1;
    this.player.pause();
  }

  private seekTo(position: number, corrective: boolean): void {
    if (!corrective) this.stats.quietSeeks += 1;
    this.player.currentTime = position;
  }

  private setRate(rate: number): void {
    if (Math.abs(this.player.playbackRate - rate) > RATE_EPSILON) this.player.playbackRate = rate;
  }
}

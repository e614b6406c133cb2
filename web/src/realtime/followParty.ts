/**
 * Wires a party session to a player: every new state goes to the follower, the follower's loop
 * runs every 50 ms and exactly at each scheduled change, and the player's readiness goes back to
 * the party as `party_status`. The party page calls this once per `<video>`.
 */

import type { SyncPolicy } from './drift';
import { PartyFollower, type PlayerLike } from './follower';
import type { PartySession } from './party';

export interface FollowPartyOptions {
  policy?: SyncPolicy;
  /** The loop's period (ms); the protocol asks for at least every 250 ms. */
  tickMs?: number;
}

export interface FollowingParty {
  follower: PartyFollower;
  stop(): void;
}

export function followParty(
  session: PartySession,
  player: PlayerLike,
  options: FollowPartyOptions = {},
): FollowingParty {
  const follower = new PartyFollower(player, {
    ...(options.policy ? { policy: options.policy } : {}),
    serverNow: () => session.serverNow(),
    onBuffering: (buffering) => session.setBuffering(buffering),
  });
  let wake: ReturnType<typeof setTimeout> | null = null;
  const arm = (): void => {
    if (wake !== null) clearTimeout(wake);
    wake = null;
    const at = follower.nextWake();
    const now = session.serverNow();
    if (at === null || now === null || at <= now) return;
    wake = setTimeout(() => {
      wake = null;
      follower.tick();
    }, at - now);
  };
  const take = (state: Parameters<PartyFollower['setState']>[0]): void => {
    if (follower.setState(state)) arm();
  };
  if (session.current) take(session.current);
  const off = session.events.on('state', take);
  const loop = setInterval(() => {
    follower.tick();
    if (wake === null) arm();
  }, options.tickMs ?? 50);
  return {
    follower,
    stop: () => {
      off();
      clearInterval(loop);
      if (wake !== null) clearTimeout(wake);
    },
  };
}

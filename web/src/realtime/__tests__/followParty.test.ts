import { afterEach, describe, expect, it, vi } from 'vitest';

import { RealtimeClient } from '../client';
import type { PlayerLike } from '../follower';
import { followParty } from '../followParty';
import { PartySession } from '../party';
import { partyState } from './fakePlayer';

/** A player that records what it was told and when (it never moves by itself). */
class Recorder implements PlayerLike {
  currentTime = 0;
  playbackRate = 1;
  paused = true;
  readyState = 4;
  calls: Array<[string, number]> = [];

  play(): void {
    this.paused = false;
    this.calls.push(['play', Date.now()]);
  }

  pause(): void {
    this.paused = true;
    this.calls.push(['pause', Date.now()]);
  }
}

afterEach(() => {
  vi.useRealTimers();
});

describe('following a party on a player', () => {
  it('plays exactly at `at`, not at the next tick, and reports buffering to the party', async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const client = new RealtimeClient({ url: 'ws://mydrtv.test/ws', now: () => Date.now() });
    const session = new PartySession(client, 'p1');
    // One exchange saying the server's clock is 500 ms ahead, good to 1 ms.
    session.clock.add({ t1: 1_000_000, t2: 1_000_501, t3: 1_000_501, t4: 1_000_002 });
    expect(session.serverNow()).toBe(1_000_500);
    const buffering = vi.spyOn(session, 'setBuffering').mockImplementation(() => undefined);
    const player = new Recorder();
    const following = followParty(session, player);

    const at = 1_000_500 + 1234; // server time; not on the 50 ms grid
    session.events.emit('state', partyState(1, { playing: true, position: 0, at }));
    await vi.advanceTimersByTimeAsync(1233);
    expect(player.calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(player.calls).toEqual([['play', 1_000_000 + 1234]]);

    player.readyState = 1;
    await vi.advanceTimersByTimeAsync(600);
    expect(buffering).toHaveBeenLastCalledWith(true);
    player.readyState = 4;
    await vi.advanceTimersByTimeAsync(50);
    expect(buffering).toHaveBeenLastCalledWith(false);

    following.stop();
    session.events.emit('state', partyState(2, { playing: false, position: 0, at: at + 5000 }));
    await vi.advanceTimersByTimeAsync(10000);
    expect(player.calls).toHaveLength(1);
  });
});

import { useEffect, useRef, useState } from 'react';
import { api, type Schemas } from '../../api/client';
import {
  followParty,
  type FollowerStats,
  type PartySession,
  type PartyState,
  type SyncPolicy,
} from '../../realtime';
import { Button } from '../Button';
import { ErrorBanner } from '../ErrorBanner';
import { attachHls, videoAsPlayer } from './videoPlayer';

/** What the party's debugging hook (`window.__mydrtvParty`) offers: tests and benchmarks read it. */
export interface PartyProbe {
  state(): PartyState | null;
  serverNow(): number | null;
  stats(): FollowerStats;
  policy: SyncPolicy;
}

declare global {
  interface Window {
    __mydrtvParty?: PartyProbe;
  }
}

/**
 * The party's video: the real `<video>` element, its HLS source, and the follower that keeps it
 * where the party is (rate for small drift, seek for large). No native controls: playback belongs
 * to the party, so the page's own buttons send commands instead.
 */
export function PartyPlayer({
  session,
  videoId,
  policy,
  onStats,
}: {
  session: PartySession;
  videoId: string;
  policy: SyncPolicy;
  onStats: (stats: FollowerStats) => void;
}) {
  const videoRef = useRef<HTMLVideoElement>(null);
  const [error, setError] = useState<unknown>(null);
  const [muted, setMuted] = useState(false);
  const [autoMuted, setAutoMuted] = useState(false);
  const [poster, setPoster] = useState<string | undefined>(undefined);
  const statsRef = useRef(onStats);
  statsRef.current = onStats;

  useEffect(() => {
    const video = videoRef.current;
    if (!video) return undefined;
    let detach: (() => void) | null = null;
    let gone = false;
    setError(null);
    api
      .get<Schemas['media_serving_Playback']>(`/videos/${encodeURIComponent(videoId)}/playback`)
      .then(async (playback) => {
        if (gone) return;
        setPoster(playback.poster_url);
        const off = await attachHls(video, playback.master_url);
        if (gone) off();
        else detach = off;
      })
      .catch((reason: unknown) => {
        if (!gone) setError(reason);
      });
    return () => {
      gone = true;
      detach?.();
    };
  }, [videoId]);

  useEffect(() => {
    const video = videoRef.current;
    if (!video) return undefined;
    const player = videoAsPlayer(video, () => {
      setMuted(true);
      setAutoMuted(true);
    });
    const following = followParty(session, player, { policy });
    window.__mydrtvParty = {
      state: () => session.current,
      serverNow: () => session.serverNow(),
      stats: () => ({ ...following.follower.stats }),
      policy,
    };
    const report = setInterval(() => statsRef.current({ ...following.follower.stats }), 500);
    return () => {
      clearInterval(report);
      following.stop();
      delete window.__mydrtvParty;
    };
  }, [session, policy]);

  function toggleSound() {
    const video = videoRef.current;
    if (!video) return;
    video.muted = !video.muted;
    setMuted(video.muted);
    setAutoMuted(false);
  }

  return (
    <div className="flex flex-col gap-2">
      <div className="overflow-hidden rounded-lg bg-black">
        <video
          ref={videoRef}
          className="aspect-video w-full"
          playsInline
          preload="auto"
          poster={poster}
          aria-label="Party video"
          data-testid="party-video"
        />
      </div>
      <ErrorBanner error={error} />
      <div className="flex flex-wrap items-center gap-2">
        <Button variant="secondary" onClick={toggleSound} aria-pressed={muted}>
          {muted ? 'Turn sound on' : 'Mute'}
        </Button>
        {autoMuted && (
          <p className="text-sm text-slate-700">
            Your browser only lets the video start without sound. Turn it on when you are ready.
          </p>
        )}
      </div>
    </div>
  );
}

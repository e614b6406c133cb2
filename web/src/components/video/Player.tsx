/**
 * An HLS player: hls.js wherever Media Source Extensions exist (the same adaptive behaviour in
 * every browser, Chromium's new native HLS included), the browser's own HLS where they do not
 * (iPhone Safari before 17.1). hls.js is imported here, on demand, so it is a chunk of its own
 * that only pages that play download.
 */
import { forwardRef, useEffect, useImperativeHandle, useRef, useState } from 'react';

export interface PlayerProps {
  src: string;
  poster?: string;
  title: string;
  onTime?: (seconds: number) => void;
  onDuration?: (seconds: number) => void;
}

export const Player = forwardRef<HTMLVideoElement | null, PlayerProps>(function Player(
  { src, poster, title, onTime, onDuration },
  ref,
) {
  const element = useRef<HTMLVideoElement>(null);
  const [problem, setProblem] = useState<string | null>(null);
  useImperativeHandle<HTMLVideoElement | null, HTMLVideoElement | null>(ref, () => element.current, []);

  useEffect(() => {
    const video = element.current;
    if (!video) return undefined;
    setProblem(null);
    let destroyed = false;
    let destroy: () => void = () => undefined;
    const mse = 'MediaSource' in window || 'ManagedMediaSource' in window;
    if (!mse && video.canPlayType('application/vnd.apple.mpegurl')) {
      video.src = src;
    } else {
      void import('hls.js/light').then(({ default: Hls }) => {
        if (destroyed) return;
        if (!Hls.isSupported()) {
          setProblem('This browser cannot play this video.');
          return;
        }
        const hls = new Hls({ capLevelToPlayerSize: true });
        hls.on(Hls.Events.ERROR, (_event, data) => {
          if (!data.fatal) return;
          if (data.type === Hls.ErrorTypes.NETWORK_ERROR) hls.startLoad();
          else if (data.type === Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError();
          else setProblem('The video could not be played. Try reloading the page.');
        });
        hls.loadSource(src);
        hls.attachMedia(video);
        destroy = () => hls.destroy();
      });
    }
    return () => {
      destroyed = true;
      destroy();
    };
  }, [src]);

  return (
    <div>
      <video
        ref={element}
        className="aspect-video w-full rounded-md bg-black"
        controls
        playsInline
        preload="auto"
        poster={poster}
        aria-label={`Video: ${title}`}
        onTimeUpdate={(event) => onTime?.(event.currentTarget.currentTime)}
        onSeeked={(event) => onTime?.(event.currentTarget.currentTime)}
        onDurationChange={(event) => {
          const seconds = event.currentTarget.duration;
          if (Number.isFinite(seconds)) onDuration?.(seconds);
        }}
      />
      {problem && (
        <p role="alert" className="mt-2 text-sm text-red-800">
          {problem}
        </p>
      )}
    </div>
  );
});

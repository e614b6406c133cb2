/**
 * The `<video>` element as the follower's player, plus the HLS source. hls.js is imported only
 * here, lazily, so only pages that play download it. Browsers refuse `play()` with sound before
 * the person has touched the page (a reload, a shared link): then the player mutes itself and
 * plays, and says so, rather than leave the party stuck.
 */
import type { PlayerLike } from '../../realtime';

export function videoAsPlayer(video: HTMLVideoElement, onMutedToPlay: () => void): PlayerLike {
  return {
    get currentTime() {
      return video.currentTime;
    },
    set currentTime(value: number) {
      video.currentTime = value;
    },
    get playbackRate() {
      return video.playbackRate;
    },
    set playbackRate(value: number) {
      video.playbackRate = value;
    },
    get paused() {
      return video.paused;
    },
    get seeking() {
      return video.seeking;
    },
    get readyState() {
      return video.readyState;
    },
    pause: () => video.pause(),
    play: async () => {
      try {
        await video.play();
      } catch (error) {
        if (!(error instanceof DOMException) || error.name !== 'NotAllowedError' || video.muted) return;
        video.muted = true;
        onMutedToPlay();
        await video.play().catch(() => undefined);
      }
    },
  };
}

/** Attach an HLS master playlist to `video`; returns how to detach it. */
export async function attachHls(video: HTMLVideoElement, url: string): Promise<() => void> {
  const { default: Hls } = await import('hls.js');
  if (Hls.isSupported()) {
    const hls = new Hls({ startPosition: video.currentTime || -1 });
    hls.loadSource(url);
    hls.attachMedia(video);
    return () => hls.destroy();
  }
  if (video.canPlayType('application/vnd.apple.mpegurl')) {
    video.src = url;
    return () => {
      video.removeAttribute('src');
      video.load();
    };
  }
  throw new Error('This browser cannot play HLS video.');
}

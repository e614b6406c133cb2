import { describe, expect, it } from 'vitest';
import { videoAsPlayer } from './videoPlayer';

/** A media element whose play() is refused while it has sound, as browsers do before a click. */
function strictVideo() {
  const video = document.createElement('video');
  let playing = false;
  Object.defineProperty(video, 'paused', { get: () => !playing });
  video.play = () => {
    if (!video.muted) return Promise.reject(new DOMException('needs a gesture', 'NotAllowedError'));
    playing = true;
    return Promise.resolve();
  };
  return video;
}

describe('videoAsPlayer', () => {
  it('mutes and plays when the browser refuses to play with sound, and says so', async () => {
    const video = strictVideo();
    let told = 0;
    const player = videoAsPlayer(video, () => (told += 1));
    await player.play();
    expect(video.muted).toBe(true);
    expect(player.paused).toBe(false);
    expect(told).toBe(1);
  });

  it('passes position and rate through to the element', () => {
    const video = document.createElement('video');
    const player = videoAsPlayer(video, () => undefined);
    player.playbackRate = 1.25;
    expect(video.playbackRate).toBe(1.25);
    expect(player.currentTime).toBe(video.currentTime);
  });
});

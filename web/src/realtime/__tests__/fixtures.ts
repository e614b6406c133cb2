/** The recorded conversations (loaded by Vite, so no tsconfig option is needed for JSON), typed. */

import type { Fixture } from './replay';

const files = import.meta.glob<Fixture>('../__fixtures__/*.json', { eager: true, import: 'default' });

function fixture(name: string): Fixture {
  const found = files[`../__fixtures__/${name}.json`];
  if (!found) throw new Error(`no recording named ${name}; run web/scripts/record_realtime_frames.py`);
  return found;
}

export const party = fixture('party');
export const recoverAfter = fixture('recover-after');
export const recoverBefore = fixture('recover-before');
export const recoverFailed = fixture('recover-failed');
export const shutdown = fixture('shutdown');
export const badFirstFrame = fixture('terminal-bad-first-frame');
export const invalidToken = fixture('terminal-invalid-token');
export const userChannel = fixture('user-channel');
export const videoChannel = fixture('video-channel');

/** The channel a recording subscribed to first. */
export function firstChannel(recording: Fixture): string {
  const subscribe = recording.frames.find(
    (frame) => frame.dir === 'send' && frame.frame.type === 'subscribe',
  );
  if (!subscribe) throw new Error(`${recording.scenario} subscribes to nothing`);
  return subscribe.frame.channel as string;
}

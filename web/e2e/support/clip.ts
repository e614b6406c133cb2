/** A real video file for the specs that upload one: made with ffmpeg at the start of a run. */
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { REPO_DIR } from './env';

const run = promisify(execFile);

/** ffmpeg from the machine, or the binary imageio-ffmpeg ships in the project's venv. */
export async function ffmpeg(): Promise<string> {
  try {
    await run('ffmpeg', ['-version']);
    return 'ffmpeg';
  } catch {
    const dir = resolve(REPO_DIR, '.venv/lib/python3.11/site-packages/imageio_ffmpeg/binaries');
    const binary = (await readdir(dir)).find((name) => name.startsWith('ffmpeg'));
    if (!binary) throw new Error(`no ffmpeg on the PATH nor in ${dir}`);
    return join(dir, binary);
  }
}

/** Six seconds of a test pattern with a tone, written to `path`: small, but a real H.264/AAC file to transcode. */
export async function makeClip(path: string): Promise<string> {
  await run(await ffmpeg(), [
    '-loglevel', 'error',
    '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25:duration=6',
    '-f', 'lavfi', '-i', 'sine=frequency=440:duration=6',
    '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-preset', 'veryfast',
    '-c:a', 'aac', '-shortest', path,
  ]); // prettier-ignore
  return path;
}

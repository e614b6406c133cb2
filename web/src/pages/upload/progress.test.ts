import { describe, expect, it } from 'vitest';
import { INITIAL, withEvent, withStatus, type UploadState } from './progress';

const uploaded: UploadState = { ...INITIAL, phase: 'uploaded', videoId: 'v1' };

describe('upload progress', () => {
  it('fills the bar from media.progress, stage by stage', () => {
    const half = withEvent(uploaded, {
      type: 'media.progress',
      video_id: 'v1',
      stage: 'transcoding',
      fraction: 0.5,
    });
    expect(half).toMatchObject({ phase: 'processing', stage: 'transcoding', fraction: 0.5 });
    const storing = withEvent(half, {
      type: 'media.progress',
      video_id: 'v1',
      stage: 'storing',
      fraction: 0.25,
    });
    expect(storing).toMatchObject({ stage: 'storing', fraction: 0.25 });
  });
  it('ignores events of other videos and types it does not know', () => {
    expect(withEvent(uploaded, { type: 'media.status', video_id: 'v2', status: 'ready' })).toBe(uploaded);
    expect(withEvent(uploaded, { type: 'feed.item', video_id: 'v1' })).toBe(uploaded);
    expect(withEvent(uploaded, null)).toBe(uploaded);
  });
  it('only media.status says ready, and ready stays ready', () => {
    const ready = withEvent(uploaded, {
      type: 'media.status',
      video_id: 'v1',
      status: 'ready',
      reason: null,
    });
    expect(ready.phase).toBe('ready');
    expect(
      withEvent(ready, { type: 'media.progress', video_id: 'v1', stage: 'transcoding', fraction: 0.1 }),
    ).toBe(ready);
    expect(withStatus(ready, 'processing')).toBe(ready);
  });
  it('keeps the reason of a failure', () => {
    const failed = withEvent(uploaded, {
      type: 'media.status',
      video_id: 'v1',
      status: 'failed',
      reason: 'truncated',
    });
    expect(failed).toMatchObject({ phase: 'failed', reason: 'truncated' });
  });
  it('does not go back to uploaded once processing, and clamps fractions', () => {
    const processing = withStatus(uploaded, 'processing');
    expect(withStatus(processing, 'uploaded')).toBe(processing);
    const over = withEvent(processing, {
      type: 'media.progress',
      video_id: 'v1',
      stage: 'storing',
      fraction: 7,
    });
    expect(over.fraction).toBe(1);
  });
});

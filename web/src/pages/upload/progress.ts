/**
 * Where an upload stands, from the events of the owner's `user:` channel: `media.status` moves it
 * on (only it says `ready`), `media.progress` fills the bar (a hint that may never come).
 */
export type Phase = 'idle' | 'creating' | 'uploading' | 'uploaded' | 'processing' | 'ready' | 'failed';

export interface UploadState {
  phase: Phase;
  videoId: string | null;
  /** 0..1 within the phase (upload: bytes sent; processing: the transcode, then storing). */
  fraction: number;
  stage: 'transcoding' | 'storing' | null;
  reason: string | null;
}

export const INITIAL: UploadState = { phase: 'idle', videoId: null, fraction: 0, stage: null, reason: null };

interface MediaStatus {
  type: 'media.status';
  video_id: string;
  status: 'uploaded' | 'processing' | 'ready' | 'failed';
  reason: string | null;
}
interface MediaProgress {
  type: 'media.progress';
  video_id: string;
  stage: 'transcoding' | 'storing';
  fraction: number;
}

const ORDER: Phase[] = ['idle', 'creating', 'uploading', 'uploaded', 'processing', 'ready', 'failed'];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** A status (from an event or `GET /videos/{id}`): never back from ready/failed, never back a step
 * except a retry (`processing` again starts the bar over). */
export function withStatus(state: UploadState, status: string, reason: string | null = null): UploadState {
  if (state.phase === 'ready' || state.phase === 'failed') return state;
  if (status === 'ready') return { ...state, phase: 'ready', fraction: 1, reason: null };
  if (status === 'failed') return { ...state, phase: 'failed', reason };
  if (status === 'processing') {
    return state.phase === 'processing' ? state : { ...state, phase: 'processing', fraction: 0, stage: null };
  }
  if (status === 'uploaded' && ORDER.indexOf(state.phase) < ORDER.indexOf('uploaded')) {
    return { ...state, phase: 'uploaded', fraction: 0 };
  }
  return state;
}

/** Apply one event's `data` from the user channel; events about other videos change nothing. */
export function withEvent(state: UploadState, data: unknown): UploadState {
  if (!isObject(data) || state.videoId === null || data['video_id'] !== state.videoId) return state;
  if (data['type'] === 'media.status') {
    const event = data as unknown as MediaStatus;
    return withStatus(state, event.status, event.reason);
  }
  if (data['type'] === 'media.progress') {
    const event = data as unknown as MediaProgress;
    if (state.phase !== 'uploaded' && state.phase !== 'processing') return state;
    const fraction = Math.min(1, Math.max(0, Number(event.fraction) || 0));
    return { ...state, phase: 'processing', stage: event.stage, fraction };
  }
  return state;
}

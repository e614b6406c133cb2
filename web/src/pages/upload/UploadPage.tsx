/**
 * Uploading a video: pick a file, name it, send it with a progress bar of the bytes sent, then
 * follow the transcode live (`media.progress` and `media.status` on the owner's `user:` channel)
 * until the video plays here.
 */
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { Link } from 'react-router-dom';
import { api, type Schemas } from '../../api/client';
import { useMe, useSignedIn } from '../../api/useSession';
import { Button } from '../../components/Button';
import { ErrorBanner } from '../../components/ErrorBanner';
import { PageTitle } from '../../components/PageTitle';
import { Empty, Loading } from '../../components/States';
import { TextField } from '../../components/TextField';
import { liveClient } from '../../components/video/liveClient';
import { Player } from '../../components/video/Player';
import { useChannel } from '../../realtime/react';
import { INITIAL, withEvent, withStatus, type UploadState } from './progress';
import { uploadFile, type UploadHandle } from './uploadFile';

type Video = Schemas['Video'];
type Playback = Schemas['media_serving_Playback'];

const STEP_WORDS: Record<UploadState['phase'], string> = {
  idle: '',
  creating: 'Creating the video…',
  uploading: 'Uploading',
  uploaded: 'Uploaded: waiting for a worker to process it',
  processing: 'Processing',
  ready: 'Ready: your video plays below',
  failed: 'The video could not be processed',
};

function titleFrom(file: File): string {
  return (
    file.name
      .replace(/\.[^.]+$/, '')
      .replace(/[_-]+/g, ' ')
      .trim() || 'My video'
  );
}

export default function UploadPage() {
  const signedIn = useSignedIn();
  const me = useMe();
  const fileId = useId();
  const visibilityId = useId();
  const [file, setFile] = useState<File | null>(null);
  const [title, setTitle] = useState('');
  const [description, setDescription] = useState('');
  const [visibility, setVisibility] = useState<Video['visibility']>('public');
  const [state, setState] = useState<UploadState>(INITIAL);
  const [error, setError] = useState<unknown>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [playback, setPlayback] = useState<Playback | null>(null);
  const upload = useRef<UploadHandle | null>(null);
  const videoId = state.videoId;

  /** The video's status by REST: after the upload answers, and when the channel missed events. */
  async function checkStatus(id: string) {
    try {
      const video = await api.get<Video>(`/videos/${id}`, { auth: 'required' });
      setState((s) => (s.videoId === id ? withStatus(s, video.status, video.failure_reason ?? null) : s));
    } catch {
      // the events will tell
    }
  }

  useChannel(
    me ? `user:${me.id}` : null,
    {
      onEvent: (frame) => setState((s) => withEvent(s, frame.data)),
      onPublication: (publication) => setState((s) => withEvent(s, publication.data)),
      onSubscribed: (info) => {
        if (!info.recovered && videoId) void checkStatus(videoId);
      },
    },
    liveClient(),
  );

  useEffect(() => {
    if (state.phase !== 'ready' || !videoId) return undefined;
    const controller = new AbortController();
    api
      .get<Playback>(`/videos/${videoId}/playback`, { auth: 'required', signal: controller.signal })
      .then(setPlayback)
      .catch((failure: unknown) => {
        if (!controller.signal.aborted) setError(failure);
      });
    return () => controller.abort();
  }, [state.phase, videoId]);

  useEffect(() => () => upload.current?.abort(), []);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setProblem(null);
    if (!file) {
      setProblem('Choose a video file first.');
      return;
    }
    setError(null);
    setPlayback(null);
    setState({ ...INITIAL, phase: 'creating' });
    try {
      const newVideo: Schemas['NewVideo'] = {
        title: title.trim() || titleFrom(file),
        description,
        visibility,
      };
      const video = await api.post<Video>('/videos', newVideo, { auth: 'required' });
      setState({ ...INITIAL, phase: 'uploading', videoId: video.id });
      const handle = uploadFile(video.id, file, (fraction) =>
        setState((s) => (s.phase === 'uploading' ? { ...s, fraction } : s)),
      );
      upload.current = handle;
      const accepted = await handle.done;
      upload.current = null;
      setState((s) =>
        withStatus(
          s.phase === 'uploading' ? { ...s, phase: 'uploaded', fraction: 0 } : s,
          accepted.video.status,
        ),
      );
      void checkStatus(video.id);
    } catch (failure) {
      upload.current = null;
      setState((s) => ({ ...s, phase: 'idle', fraction: 0 }));
      setError(failure);
    }
  }

  if (!signedIn) {
    return (
      <section>
        <PageTitle>Upload</PageTitle>
        <Empty>
          <Link to="/signin" className="text-indigo-800 underline">
            Sign in
          </Link>{' '}
          to upload videos.
        </Empty>
      </section>
    );
  }

  const busy = state.phase === 'creating' || state.phase === 'uploading';
  const started = state.phase !== 'idle';
  const stageWords =
    state.phase === 'processing' && state.stage
      ? `${state.stage === 'storing' ? 'Storing' : 'Transcoding'}`
      : '';

  return (
    <section className="flex max-w-2xl flex-col gap-5">
      <PageTitle>Upload a video</PageTitle>
      <form onSubmit={(event) => void submit(event)} className="flex flex-col gap-4">
        <div className="flex flex-col gap-1">
          <label htmlFor={fileId} className="text-sm font-medium">
            Video file
          </label>
          <input
            id={fileId}
            type="file"
            accept="video/*"
            disabled={busy}
            onChange={(event) => {
              const chosen = event.target.files?.[0] ?? null;
              setFile(chosen);
              if (chosen && !title) setTitle(titleFrom(chosen));
            }}
            className="text-sm file:mr-3 file:min-h-10 file:rounded-md file:border-0 file:bg-indigo-700 file:px-4 file:font-semibold file:text-white"
          />
        </div>
        <TextField
          label="Title"
          value={title}
          onChange={(event) => setTitle(event.target.value)}
          disabled={busy}
        />
        <div className="flex flex-col gap-1">
          <label htmlFor={`${fileId}-description`} className="text-sm font-medium">
            Description
          </label>
          <textarea
            id={`${fileId}-description`}
            value={description}
            onChange={(event) => setDescription(event.target.value)}
            rows={3}
            disabled={busy}
            className="rounded-md border border-slate-400 px-3 py-2 text-base"
          />
        </div>
        <div className="flex flex-col gap-1">
          <label htmlFor={visibilityId} className="text-sm font-medium">
            Who can watch
          </label>
          <select
            id={visibilityId}
            value={visibility}
            onChange={(event) => setVisibility(event.target.value as Video['visibility'])}
            disabled={busy}
            className="min-h-10 rounded-md border border-slate-400 bg-white px-3 py-2 text-base"
          >
            <option value="public">Everyone (listed in the catalog)</option>
            <option value="unlisted">Anyone with the link</option>
            <option value="private">Only me and people I add</option>
          </select>
        </div>
        <div className="flex flex-wrap gap-3">
          <Button type="submit" disabled={busy}>
            Upload
          </Button>
          {state.phase === 'uploading' && (
            <Button variant="secondary" onClick={() => upload.current?.abort()}>
              Cancel upload
            </Button>
          )}
        </div>
      </form>
      {problem && (
        <p role="alert" className="rounded-md border border-red-300 bg-red-50 px-4 py-3 text-sm text-red-900">
          {problem}
        </p>
      )}
      <ErrorBanner error={error} />

      {started && (
        <div
          className="flex flex-col gap-2 rounded-md border border-slate-200 bg-white p-4"
          data-testid="upload-status"
        >
          <p role="status" className="font-medium" data-phase={state.phase}>
            {STEP_WORDS[state.phase]}
            {stageWords && ` · ${stageWords}`}
          </p>
          {state.phase !== 'creating' && (
            <ProgressBar
              label="Upload"
              testId="upload-progress"
              value={state.phase === 'uploading' ? state.fraction : 1}
            />
          )}
          {state.phase !== 'creating' && state.phase !== 'uploading' && state.phase !== 'failed' && (
            <ProgressBar
              label={state.stage === 'storing' ? 'Storing' : 'Transcoding'}
              testId="transcode-progress"
              value={state.phase === 'ready' ? 1 : state.phase === 'processing' ? state.fraction : 0}
            />
          )}
          {state.phase === 'failed' && state.reason && <p className="text-sm text-red-900">{state.reason}</p>}
        </div>
      )}

      {state.phase === 'ready' && videoId && (
        <div className="flex flex-col gap-2">
          {playback ? (
            <Player src={playback.master_url} poster={playback.poster_url} title={title} />
          ) : (
            <Loading label="Loading the player…" />
          )}
          <Link to={`/watch/${videoId}`} className="font-medium text-indigo-800 underline">
            Open the video page
          </Link>
        </div>
      )}
    </section>
  );
}

function ProgressBar({ label, testId, value }: { label: string; testId: string; value: number }) {
  const id = useId();
  return (
    <div className="flex items-center gap-3">
      <label htmlFor={id} className="w-24 text-sm text-slate-700">
        {label}
      </label>
      <progress id={id} data-testid={testId} max={1} value={value} className="h-3 flex-1 accent-indigo-700" />
      <span className="w-10 text-right text-sm tabular-nums text-slate-700" aria-hidden="true">
        {Math.round(value * 100)}%
      </span>
    </div>
  );
}

import { useEffect, useState, type FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router-dom';
import { useSignedIn } from '../../api/useSession';
import { Button } from '../../components/Button';
import { ErrorBanner } from '../../components/ErrorBanner';
import { PageTitle } from '../../components/PageTitle';
import { Empty, Loading } from '../../components/States';
import { partyApi, type PartyInfo, type Video } from './partyApi';

/** Start a party from a video (`/party?video=<id>` picks it), and the parties going on. */
export function PartiesHome() {
  const signedIn = useSignedIn();
  return (
    <section className="flex flex-col gap-8">
      <PageTitle>Watch parties</PageTitle>
      {signedIn ? (
        <StartParty />
      ) : (
        <p className="text-slate-700">
          <Link to="/signin" className="font-medium text-indigo-800 underline">
            Sign in
          </Link>{' '}
          to start a party or join one.
        </p>
      )}
      {signedIn && <PartyList title="Your parties" load={partyApi.mine} empty="You are in no party yet." />}
      <PartyList title="Public parties now" load={partyApi.public} empty="No public party is going on." />
    </section>
  );
}

function StartParty() {
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [videos, setVideos] = useState<Video[] | null>(null);
  const [videoId, setVideoId] = useState(params.get('video') ?? '');
  const [visibility, setVisibility] = useState<'private' | 'public'>('private');
  const [control, setControl] = useState<'host' | 'everyone'>('host');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    partyApi.videos().then((page) => {
      const ready = page.items.filter((v) => v.status === 'ready');
      setVideos(ready);
      setVideoId((chosen) => chosen || ready[0]?.id || '');
    }, setError);
  }, []);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const party = await partyApi.create({ video_id: videoId, visibility, control });
      navigate(`/party/${party.id}`);
    } catch (reason) {
      setError(reason);
      setBusy(false);
    }
  }

  const listed = videos?.some((v) => v.id === videoId) ?? false;
  return (
    <section aria-labelledby="start-title" className="flex flex-col gap-3">
      <h2 id="start-title" className="text-lg font-semibold">
        Start a party
      </h2>
      <ErrorBanner error={error} />
      {videos === null && error === null && <Loading label="Loading videos…" />}
      {videos !== null && videos.length === 0 && !videoId && <Empty>No video is ready to watch yet.</Empty>}
      {(videos?.length || videoId) && (
        <form onSubmit={(event) => void submit(event)} className="flex max-w-xl flex-col gap-3">
          <div className="flex flex-col gap-1">
            <label htmlFor="party-video" className="text-sm font-medium">
              Video
            </label>
            <select
              id="party-video"
              value={videoId}
              onChange={(event) => setVideoId(event.target.value)}
              className="min-h-10 rounded-md border border-slate-400 bg-white px-3 py-2 text-base"
            >
              {!listed && videoId && <option value={videoId}>The video you came from</option>}
              {videos?.map((video) => (
                <option key={video.id} value={video.id}>
                  {video.title}
                </option>
              ))}
            </select>
          </div>
          <fieldset className="flex flex-col gap-1">
            <legend className="text-sm font-medium">Who can join</legend>
            <label className="flex items-center gap-2">
              <input
                type="radio"
                name="visibility"
                checked={visibility === 'private'}
                onChange={() => setVisibility('private')}
              />
              Only people with the invite link
            </label>
            <label className="flex items-center gap-2">
              <input
                type="radio"
                name="visibility"
                checked={visibility === 'public'}
                onChange={() => setVisibility('public')}
              />
              Anyone (listed publicly)
            </label>
          </fieldset>
          <fieldset className="flex flex-col gap-1">
            <legend className="text-sm font-medium">Who controls playback</legend>
            <label className="flex items-center gap-2">
              <input
                type="radio"
                name="control"
                checked={control === 'host'}
                onChange={() => setControl('host')}
              />
              The host
            </label>
            <label className="flex items-center gap-2">
              <input
                type="radio"
                name="control"
                checked={control === 'everyone'}
                onChange={() => setControl('everyone')}
              />
              Everyone
            </label>
          </fieldset>
          <div>
            <Button type="submit" disabled={busy || !videoId}>
              {busy ? 'Starting…' : 'Start the party'}
            </Button>
          </div>
        </form>
      )}
    </section>
  );
}

function PartyList({
  title,
  load,
  empty,
}: {
  title: string;
  load: () => Promise<{ items: PartyInfo[] }>;
  empty: string;
}) {
  const [parties, setParties] = useState<PartyInfo[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    load().then((page) => setParties(page.items), setError);
  }, [load]);
  const id = `list-${title.replace(/\W+/g, '-').toLowerCase()}`;
  return (
    <section aria-labelledby={id} className="flex flex-col gap-2">
      <h2 id={id} className="text-lg font-semibold">
        {title}
      </h2>
      <ErrorBanner error={error} />
      {parties === null && error === null && <Loading />}
      {parties !== null && parties.length === 0 && <Empty>{empty}</Empty>}
      {parties !== null && parties.length > 0 && (
        <ul className="flex flex-col gap-1">
          {parties.map((party) => (
            <li key={party.id}>
              <Link to={`/party/${party.id}`} className="font-medium text-indigo-800 underline">
                {party.creator ? `@${party.creator.handle}'s party` : 'A party'}
              </Link>{' '}
              <span className="text-sm text-slate-700">
                · {party.state.members.length} {party.state.members.length === 1 ? 'member' : 'members'} ·{' '}
                {party.visibility}
              </span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

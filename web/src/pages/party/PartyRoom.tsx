import { useCallback, useEffect, useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { ApiError } from '../../api/errors';
import { useMe, useSignedIn } from '../../api/useSession';
import { Button } from '../../components/Button';
import { ErrorBanner } from '../../components/ErrorBanner';
import { PageTitle } from '../../components/PageTitle';
import { Loading } from '../../components/States';
import { LiveRoom } from './LiveRoom';
import { partyApi, type PartyInfo } from './partyApi';

/**
 * A party's page: load it, offer to join (with the invite from the link), then the live room.
 * A private party is invisible to non-members, so its "not found" with an invite means "join".
 */
export function PartyRoom({ partyId }: { partyId: string }) {
  const signedIn = useSignedIn();
  const me = useMe();
  const [params] = useSearchParams();
  const invite = params.get('invite');
  const [party, setParty] = useState<PartyInfo | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [joinError, setJoinError] = useState<unknown>(null);
  const [joining, setJoining] = useState(false);

  const load = useCallback(
    (signal?: AbortSignal) =>
      partyApi.get(partyId, signal).then(
        (info) => {
          setParty(info);
          setLoadError(null);
        },
        (error: unknown) => {
          if (!(error instanceof DOMException)) setLoadError(error);
        },
      ),
    [partyId],
  );

  useEffect(() => {
    const controller = new AbortController();
    void load(controller.signal);
    return () => controller.abort();
  }, [load, signedIn]);

  async function join() {
    setJoining(true);
    setJoinError(null);
    try {
      setParty(await partyApi.join(partyId, invite));
      setLoadError(null);
    } catch (error) {
      setJoinError(error);
    } finally {
      setJoining(false);
    }
  }

  const member = party !== null && me !== null && party.state.members.some((m) => m.id === me.id);
  if (member && party && me) return <LiveRoom party={party} me={me} onChanged={setParty} />;

  const hidden =
    loadError instanceof ApiError &&
    (loadError.code === 'party_not_found' || loadError.code === 'not_member');
  const mayJoin = party !== null || (hidden && invite !== null);
  return (
    <section className="flex flex-col gap-4">
      <PageTitle>Watch party</PageTitle>
      {party === null && loadError === null && <Loading label="Loading the party…" />}
      {!(hidden && invite !== null) && <ErrorBanner error={loadError} />}
      {mayJoin && !signedIn && (
        <p className="text-slate-700">
          <Link to="/signin" className="font-medium text-indigo-800 underline">
            Sign in
          </Link>{' '}
          to join this party, then open the link again.
        </p>
      )}
      {mayJoin &&
        signedIn &&
        (me === null ? (
          <Loading />
        ) : (
          <div className="flex flex-col items-start gap-3">
            <p className="text-slate-800">
              {party?.creator
                ? `@${party.creator.handle} invited you to watch together.`
                : 'You were invited to watch together.'}
            </p>
            <ErrorBanner error={joinError} />
            <Button onClick={() => void join()} disabled={joining}>
              {joining ? 'Joining…' : 'Join the party'}
            </Button>
          </div>
        ))}
      <p>
        <Link to="/party" className="text-indigo-800 underline">
          All watch parties
        </Link>
      </p>
    </section>
  );
}

import { useMemo, useState } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import type { Me } from '../../api/useSession';
import { Button } from '../../components/Button';
import { ErrorBanner } from '../../components/ErrorBanner';
import { PageTitle } from '../../components/PageTitle';
import { Loading } from '../../components/States';
import { InviteLink } from '../../components/party/InviteLink';
import { MemberList } from '../../components/party/MemberList';
import { PartyChat } from '../../components/party/PartyChat';
import { PartyPlayer } from '../../components/party/PartyPlayer';
import { PartySettings } from '../../components/party/PartySettings';
import { PlaybackControls } from '../../components/party/PlaybackControls';
import { Reactions } from '../../components/party/Reactions';
import { SyncIndicator } from '../../components/party/SyncIndicator';
import { positionAt, type FollowerStats } from '../../realtime';
import { inviteLink, partyApi, type PartyInfo } from './partyApi';
import { describePartyError } from './partyErrors';
import { choosePolicy } from './policy';
import { useLiveParty } from './useLiveParty';

/** The party for a member: the synchronized video, controls, members, chat and reactions. */
export function LiveRoom({
  party,
  me,
  onChanged,
}: {
  party: PartyInfo;
  me: Me;
  onChanged: (party: PartyInfo) => void;
}) {
  const navigate = useNavigate();
  const live = useLiveParty(party.id);
  // Keyed by value: a party answered again (a hand-over) must not restart the player's follower.
  const policyKey = JSON.stringify(party.sync_policy);
  const policy = useMemo(() => choosePolicy(JSON.parse(policyKey) as PartyInfo['sync_policy']), [policyKey]);
  const [stats, setStats] = useState<FollowerStats | null>(null);
  const [commandError, setCommandError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const state = live.state;
  const host = state?.host ?? party.state.host;
  const control = state?.control ?? party.state.control;
  const allowed = control === 'everyone' || host === me.id;
  const hostHandle = (state?.members ?? party.state.members).find((m) => m.id === host)?.handle ?? null;
  const videoId = state?.playback.video_id ?? party.state.playback.video_id;

  async function rest(action: () => Promise<PartyInfo | void>) {
    setBusy(true);
    try {
      const changed = await action();
      if (changed) onChanged(changed);
      setCommandError(null);
      live.reloadMembers();
    } catch (error) {
      setCommandError(error);
    } finally {
      setBusy(false);
    }
  }

  async function sendChat(text: string): Promise<boolean> {
    if (!live.session) return false;
    try {
      const position = state
        ? positionAt(state.playback, live.session.serverNow() ?? state.playback.at)
        : undefined;
      await live.session.chat(text, position);
      setCommandError(null);
      return true;
    } catch (error) {
      setCommandError(error);
      return false;
    }
  }

  function react(emoji: string) {
    live.session?.react(emoji).catch(setCommandError);
  }

  if (live.ended) {
    return (
      <section className="flex flex-col gap-4">
        <PageTitle>Watch party</PageTitle>
        <p role="status">This watch party has ended.</p>
        <Link to="/party" className="text-indigo-800 underline">
          Start another one
        </Link>
      </section>
    );
  }

  return (
    <section className="flex flex-col gap-4">
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <PageTitle>{party.creator ? `@${party.creator.handle}'s watch party` : 'Watch party'}</PageTitle>
        <Button
          variant="secondary"
          disabled={busy}
          onClick={() =>
            void rest(async () => {
              await partyApi.leave(party.id);
              navigate('/party');
            })
          }
        >
          Leave the party
        </Button>
      </div>
      <SyncIndicator
        connection={live.connection}
        clock={live.clock}
        stats={stats}
        seekFromMs={policy.seekFromMs}
      />
      {commandError !== null && (
        <p role="alert" className="rounded-md border border-red-300 bg-red-50 px-4 py-3 text-sm text-red-900">
          {describePartyError(commandError)}
        </p>
      )}
      {live.problem !== null && <ErrorBanner error={live.problem} />}
      <div className="grid gap-4 lg:grid-cols-[minmax(0,2fr)_minmax(0,1fr)]">
        <div className="flex min-w-0 flex-col gap-3">
          {live.session ? (
            <PartyPlayer session={live.session} videoId={videoId} policy={policy} onStats={setStats} />
          ) : (
            <Loading label="Connecting to the party…" />
          )}
          {live.session && state ? (
            <PlaybackControls
              session={live.session}
              state={state}
              allowed={allowed}
              hostHandle={hostHandle}
              onError={setCommandError}
            />
          ) : (
            <Loading label="Getting the party's state…" />
          )}
          <Reactions shown={live.reactions} onReact={react} />
        </div>
        <div className="flex min-w-0 flex-col gap-4">
          <section aria-labelledby="members-title" className="flex flex-col gap-2">
            <h2 id="members-title" className="text-lg font-semibold">
              Members
            </h2>
            <MemberList
              members={live.members}
              meId={me.id}
              buffering={state?.buffering ?? []}
              busy={busy}
              onHandOver={(userId) => void rest(() => partyApi.handOver(party.id, userId))}
            />
          </section>
          {host === me.id && (
            <PartySettings
              control={control}
              waitForBuffering={state?.wait_for_buffering ?? party.state.wait_for_buffering}
              busy={busy}
              onChange={(change) => void rest(() => partyApi.configure(party.id, change))}
            />
          )}
          {party.visibility === 'private' && party.invite && (
            <InviteLink
              link={inviteLink(window.location.origin, party)}
              canRenew={host === me.id}
              onRenew={() =>
                void rest(async () => ({ ...party, invite: (await partyApi.renewInvite(party.id)).invite }))
              }
            />
          )}
          {party.visibility === 'public' && (
            <InviteLink
              link={inviteLink(window.location.origin, party)}
              canRenew={false}
              onRenew={() => undefined}
            />
          )}
          <PartyChat messages={live.chat} onSend={sendChat} />
        </div>
      </div>
    </section>
  );
}

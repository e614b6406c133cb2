import { useState } from 'react';
import { api, type Schemas } from '../../api/client';
import { useMe, useSignedIn } from '../../api/useSession';
import { Avatar } from '../../components/Avatar';
import { Button } from '../../components/Button';
import { ErrorBanner } from '../../components/ErrorBanner';
import { PageTitle } from '../../components/PageTitle';
import { Loading } from '../../components/States';
import { PeopleList } from '../../components/social/PeopleList';
import { Section } from '../../components/social/Section';
import { useLoad } from '../../components/social/useLoad';
import { when } from '../../components/social/when';
import { ProfileVideos } from './ProfileVideos';

type Profile = Schemas['Profile'];
type Relationship = Schemas['Relationship'];

function counted(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * Someone's public profile (`GET /users/{handle}`): their name, picture and bio, how many follow
 * them and whom they follow, how you stand, their public videos, and their followers and following.
 */
export function PersonProfile({ handle }: { handle: string }) {
  const person = useLoad(
    (signal) => api.get<Profile>(`/users/${encodeURIComponent(handle)}`, { signal }),
    handle,
  );
  const user = person.data;
  const { reload } = person;
  // A follow, block or unfollow here changes their followers: show the list and counts again.
  const [changes, setChanges] = useState(0);
  const heading = user?.display_name ?? `@${handle}`;
  return (
    <section className="flex flex-col gap-4">
      {user ? (
        <header className="flex flex-wrap items-center gap-4">
          <Avatar images={user.avatar} name={user.display_name} handle={user.handle} size={96} />
          <div className="flex min-w-0 flex-col">
            <PageTitle title={heading}>
              <span className="break-words">{heading}</span>
            </PageTitle>
            {user.display_name && <p className="-mt-3 break-all text-slate-700">@{user.handle}</p>}
            <p className="text-sm text-slate-700">
              {user.role === 'viewer' ? '' : `${user.role === 'admin' ? 'Administrator' : 'Moderator'} · `}
              Member since {when(user.created_at)}
            </p>
          </div>
        </header>
      ) : (
        <PageTitle title={`@${handle}`}>@{handle}</PageTitle>
      )}
      <ErrorBanner error={person.error} />
      {person.loading && !user && <Loading label="Loading the profile…" />}
      {user && (
        <>
          {user.bio ? (
            <p className="max-w-prose whitespace-pre-line break-words" data-testid="profile-bio">
              {user.bio}
            </p>
          ) : (
            <p className="text-sm text-slate-600">No bio yet.</p>
          )}
          <ul aria-label="Counts" className="flex flex-wrap gap-x-6 gap-y-1 text-sm">
            <li>
              <strong>{counted(user.counts.followers, 'follower', 'followers')}</strong>
            </li>
            <li>
              <strong>{user.counts.following}</strong> following
            </li>
            <li>
              <strong>{counted(user.counts.friends, 'friend', 'friends')}</strong>
            </li>
            <li>
              <strong>{counted(user.counts.videos, 'public video', 'public videos')}</strong>
            </li>
          </ul>
          <Standing
            user={user}
            onChange={() => {
              setChanges((n) => n + 1);
              reload();
            }}
          />
          <ProfileVideos handle={user.handle} />
          <div className="grid gap-4 sm:grid-cols-2">
            <Section title="Following">
              <PeopleList
                key={`following-${changes}`}
                path={`/users/${user.id}/following`}
                empty="Follows nobody yet."
                since="since"
              />
            </Section>
            <Section title="Followers">
              <PeopleList
                key={`followers-${changes}`}
                path={`/users/${user.id}/followers`}
                empty="No followers yet."
                since="since"
              />
            </Section>
          </div>
        </>
      )}
    </section>
  );
}

/** Follow, mute and block buttons that say what they will do, from the relationship the server reports. */
function Standing({ user, onChange }: { user: Profile; onChange: () => void }) {
  const signedIn = useSignedIn();
  const me = useMe();
  const self = me?.id === user.id;
  const relationship = useLoad(
    (signal) => api.get<Relationship>(`/me/relationships/${user.id}`, { auth: 'required', signal }),
    signedIn && me && !self ? user.id : null,
  );
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  if (!signedIn || !me) return null;
  if (self) return <p className="text-sm text-slate-600">This is you.</p>;
  const r = relationship.data;
  if (!r) return relationship.error ? <ErrorBanner error={relationship.error} /> : <Loading />;

  async function change(method: 'put' | 'delete', what: 'following' | 'mutes' | 'blocks') {
    setBusy(true);
    setError(null);
    try {
      if (method === 'put') await api.put(`/me/${what}/${user.id}`, undefined, { auth: 'required' });
      else await api.delete(`/me/${what}/${user.id}`, { auth: 'required' });
      relationship.setData(await api.get<Relationship>(`/me/relationships/${user.id}`, { auth: 'required' }));
      onChange();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  const badges = [
    r.friends ? 'Friends' : r.followed_by ? 'Follows you' : null,
    r.muting ? 'Muted' : null,
    r.blocking ? 'Blocked' : null,
  ].filter((b): b is string => b !== null);
  return (
    <div className="flex flex-col gap-2">
      <ErrorBanner error={error} />
      {badges.length > 0 && (
        <p className="flex gap-2" aria-label="How you stand">
          {badges.map((badge) => (
            <span
              key={badge}
              className="rounded-full bg-slate-100 px-2 py-0.5 text-xs font-semibold text-slate-800"
            >
              {badge}
            </span>
          ))}
        </p>
      )}
      <div className="flex flex-wrap gap-2">
        {!r.blocking &&
          (r.following ? (
            <Button variant="secondary" disabled={busy} onClick={() => void change('delete', 'following')}>
              Unfollow
            </Button>
          ) : (
            <Button disabled={busy} onClick={() => void change('put', 'following')}>
              Follow
            </Button>
          ))}
        <Button
          variant="secondary"
          disabled={busy}
          onClick={() => void change(r.muting ? 'delete' : 'put', 'mutes')}
        >
          {r.muting ? 'Unmute' : 'Mute'}
        </Button>
        <Button
          variant={r.blocking ? 'secondary' : 'danger'}
          disabled={busy}
          onClick={() => void change(r.blocking ? 'delete' : 'put', 'blocks')}
        >
          {r.blocking ? 'Unblock' : 'Block'}
        </Button>
      </div>
    </div>
  );
}

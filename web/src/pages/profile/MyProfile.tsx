import { Link } from 'react-router-dom';
import { useMe, useSignedIn } from '../../api/useSession';
import { PageTitle } from '../../components/PageTitle';
import { Loading } from '../../components/States';
import { Section } from '../../components/social/Section';
import { when } from '../../components/social/when';
import { ProfileEditor } from './ProfileEditor';

const ROLE_WORDS = { viewer: 'Viewer', moderator: 'Moderator', admin: 'Administrator' } as const;

/** Your own account as the server holds it, personal data included (only you see this). */
export function MyProfile() {
  const signedIn = useSignedIn();
  const me = useMe();
  if (!signedIn) {
    return (
      <section>
        <PageTitle>Your profile</PageTitle>
        <p>
          <Link className="text-indigo-700 underline" to="/signin?next=/profile">
            Sign in
          </Link>{' '}
          to see your profile.
        </p>
      </section>
    );
  }
  if (!me) {
    return (
      <section>
        <PageTitle>Your profile</PageTitle>
        <Loading />
      </section>
    );
  }
  return (
    <section className="flex flex-col gap-4">
      <PageTitle title="Your profile">@{me.handle}</PageTitle>
      <ProfileEditor />
      <Section title="Your account">
        <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-2 text-sm">
          <dt className="font-medium text-slate-700">Email</dt>
          <dd className="break-all">{me.email}</dd>
          <dt className="font-medium text-slate-700">Role</dt>
          <dd>{ROLE_WORDS[me.role]}</dd>
          <dt className="font-medium text-slate-700">Member since</dt>
          <dd>{when(me.created_at)}</dd>
          {me.birth_date && (
            <>
              <dt className="font-medium text-slate-700">Birth date</dt>
              <dd>{me.birth_date}</dd>
            </>
          )}
        </dl>
      </Section>
      <Section title="What you agreed to">
        {me.consents.length === 0 ? (
          <p className="text-sm text-slate-600">You have given no optional consents.</p>
        ) : (
          <ul className="text-sm">
            {me.consents.map((consent) => (
              <li key={consent.purpose}>
                {consent.purpose}: {consent.granted ? 'yes' : 'no'} (since {when(consent.recorded_at)})
              </li>
            ))}
          </ul>
        )}
      </Section>
      <p className="flex flex-wrap gap-4 text-sm">
        <Link className="text-indigo-700 underline" to={`/people/${me.handle}`}>
          Your public profile
        </Link>
        <Link className="text-indigo-700 underline" to="/friends">
          Your friends and feed
        </Link>
        <Link className="text-indigo-700 underline" to="/notifications/settings">
          Notification settings
        </Link>
      </p>
    </section>
  );
}

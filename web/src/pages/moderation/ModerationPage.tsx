import { Link, useSearchParams } from 'react-router-dom';
import { useMe, useSignedIn } from '../../api/useSession';
import { PageTitle } from '../../components/PageTitle';
import { Loading } from '../../components/States';
import { AuditLog } from './AuditLog';
import { HeldWords } from './HeldWords';
import { ReviewQueue } from './ReviewQueue';
import { Restrictions } from './Restrictions';
import { SlowMode } from './SlowMode';

const TABS = [
  { key: 'queue', label: 'Review queue', admin: false },
  { key: 'restrictions', label: 'Timeouts and bans', admin: false },
  { key: 'slow-mode', label: 'Slow mode', admin: false },
  { key: 'held-words', label: 'Held words', admin: false },
  { key: 'log', label: 'Audit log', admin: true },
] as const;

/** The console for moderators and admins: one tool at a time, the tool named in `?tool=`. */
export default function ModerationPage() {
  const signedIn = useSignedIn();
  const me = useMe();
  const [params] = useSearchParams();
  if (!signedIn) {
    return (
      <section>
        <PageTitle>Moderation</PageTitle>
        <p>
          <Link className="text-indigo-700 underline" to="/signin?next=/moderate">
            Sign in
          </Link>{' '}
          with a moderator account.
        </p>
      </section>
    );
  }
  if (!me) {
    return (
      <section>
        <PageTitle>Moderation</PageTitle>
        <Loading />
      </section>
    );
  }
  if (me.role === 'viewer') {
    return (
      <section>
        <PageTitle>Moderation</PageTitle>
        <p role="alert">Only moderators and admins can use the moderation console.</p>
      </section>
    );
  }
  const tabs = TABS.filter((tab) => !tab.admin || me.role === 'admin');
  const current = tabs.find((tab) => tab.key === params.get('tool')) ?? tabs[0];
  return (
    <section className="flex flex-col gap-4">
      <PageTitle>Moderation</PageTitle>
      <nav aria-label="Moderation tools">
        <ul className="flex flex-wrap gap-2">
          {tabs.map((tab) => (
            <li key={tab.key}>
              <Link
                to={`?tool=${tab.key}`}
                aria-current={tab === current ? 'page' : undefined}
                className={`inline-flex min-h-10 items-center rounded-md px-3 text-sm font-medium ring-1 ring-slate-300 ${tab === current ? 'bg-indigo-700 text-white' : 'bg-white text-slate-900 hover:bg-slate-100'}`}
              >
                {tab.label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      {current?.key === 'queue' && <ReviewQueue />}
      {current?.key === 'restrictions' && <Restrictions />}
      {current?.key === 'slow-mode' && <SlowMode />}
      {current?.key === 'held-words' && <HeldWords />}
      {current?.key === 'log' && <AuditLog />}
    </section>
  );
}

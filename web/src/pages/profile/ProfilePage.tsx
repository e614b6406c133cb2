import { PageTitle } from '../../components/PageTitle';

/** Placeholder: the page engineer replaces it. */
export default function ProfilePage() {
  return (
    <section>
      <PageTitle>Profile</PageTitle>
      <p className="text-slate-600">Your profile comes here.</p>
    </section>
  );
}

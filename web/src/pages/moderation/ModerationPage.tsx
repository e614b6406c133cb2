import { PageTitle } from '../../components/PageTitle';

/** Placeholder: the page engineer replaces it. */
export default function ModerationPage() {
  return (
    <section>
      <PageTitle>Moderation</PageTitle>
      <p className="text-slate-600">The moderation console comes here.</p>
    </section>
  );
}

import { PageTitle } from '../../components/PageTitle';

/** Placeholder: the page engineer replaces it. */
export default function PartyPage() {
  return (
    <section>
      <PageTitle>Watch party</PageTitle>
      <p className="text-slate-600">Watch parties come here.</p>
    </section>
  );
}

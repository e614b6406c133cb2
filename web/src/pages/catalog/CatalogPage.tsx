import { PageTitle } from '../../components/PageTitle';

/** Placeholder: the page engineer replaces it. */
export default function CatalogPage() {
  return (
    <section>
      <PageTitle>Videos</PageTitle>
      <p className="text-slate-600">The catalog comes here.</p>
    </section>
  );
}

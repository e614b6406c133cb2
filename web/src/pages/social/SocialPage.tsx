import { PageTitle } from '../../components/PageTitle';

/** Placeholder: the page engineer replaces it. */
export default function SocialPage() {
  return (
    <section>
      <PageTitle>Friends</PageTitle>
      <p className="text-slate-600">Follows, friends, suggestions and your feed come here.</p>
    </section>
  );
}

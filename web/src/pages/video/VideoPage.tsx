import { PageTitle } from '../../components/PageTitle';

/** Placeholder: the page engineer replaces it. */
export default function VideoPage() {
  return (
    <section>
      <PageTitle>Video</PageTitle>
      <p className="text-slate-600">The player, ratings and live comments come here.</p>
    </section>
  );
}

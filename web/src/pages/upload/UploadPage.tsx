import { PageTitle } from '../../components/PageTitle';

/** Placeholder: the page engineer replaces it. */
export default function UploadPage() {
  return (
    <section>
      <PageTitle>Upload</PageTitle>
      <p className="text-slate-600">Uploading a video comes here.</p>
    </section>
  );
}

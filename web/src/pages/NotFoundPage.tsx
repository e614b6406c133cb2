import { Link } from 'react-router-dom';
import { PageTitle } from '../components/PageTitle';

export default function NotFoundPage() {
  return (
    <section>
      <PageTitle>Page not found</PageTitle>
      <p className="text-slate-600">
        There is nothing at this address.{' '}
        <Link className="text-indigo-700 underline" to="/">
          Back to the videos
        </Link>
      </p>
    </section>
  );
}

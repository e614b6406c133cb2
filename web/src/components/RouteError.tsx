import { Link, useRouteError } from 'react-router-dom';
import { ErrorBanner } from './ErrorBanner';

/** Shown when a page fails to load or throws while rendering. */
export function RouteError() {
  const error = useRouteError();
  return (
    <main id="main" className="mx-auto max-w-5xl px-4 py-6">
      <h1 className="mb-4 text-2xl font-bold">Something went wrong</h1>
      <ErrorBanner error={error} />
      <p className="mt-4">
        <Link className="text-indigo-700 underline" to="/">
          Back to the videos
        </Link>
      </p>
    </main>
  );
}

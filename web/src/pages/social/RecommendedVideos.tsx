import { Link } from 'react-router-dom';
import { api, type Schemas } from '../../api/client';
import { ErrorBanner } from '../../components/ErrorBanner';
import { Empty, Loading } from '../../components/States';
import { Section } from '../../components/social/Section';
import { useLoad } from '../../components/social/useLoad';

type Recommendation = Schemas['VideoRecommendation'];

/** Videos for you, each with the reason the graph gives ("3 friends rated this 4+"). */
export function RecommendedVideos({ refresh }: { refresh: number }) {
  const recommendations = useLoad(
    (signal) =>
      api
        .get<Schemas['RecommendationPage']>('/me/recommendations/videos', {
          auth: 'required',
          signal,
          query: { limit: 8 },
        })
        .then((page): Recommendation[] => page.items),
    `videos-${refresh}`,
  );
  const list = recommendations.data ?? [];
  return (
    <Section title="Recommended for you">
      <ErrorBanner error={recommendations.error} />
      {recommendations.loading && <Loading label="Finding videos…" />}
      {!recommendations.loading && !recommendations.error && list.length === 0 && (
        <Empty>No recommendations yet. Watch and rate a few videos first.</Empty>
      )}
      <ul className="grid gap-3 sm:grid-cols-2">
        {list.map(({ video, explanation }) => (
          <li key={video.id} className="rounded-md border border-slate-200 p-3">
            <Link className="font-semibold text-indigo-800 underline" to={`/watch/${video.id}`}>
              {video.title}
            </Link>
            <p className="text-sm text-slate-700">by @{video.owner.handle}</p>
            <p className="mt-1 text-sm text-slate-600">
              <span className="sr-only">Why: </span>
              {explanation}
            </p>
          </li>
        ))}
      </ul>
    </Section>
  );
}

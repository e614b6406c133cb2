import { useState } from 'react';
import { api, type Schemas } from '../../api/client';
import { Button } from '../../components/Button';
import { ErrorBanner } from '../../components/ErrorBanner';
import { Empty, Loading } from '../../components/States';
import { PersonLink } from '../../components/social/PersonLink';
import { Section } from '../../components/social/Section';
import { useLoad } from '../../components/social/useLoad';

type Suggestion = Schemas['PersonSuggestion'];

/** Suggestions from the graph, each with why; following or dismissing one takes it off the list. */
export function PeopleYouMayKnow({ onFollowed }: { onFollowed: () => void }) {
  const suggestions = useLoad(
    (signal) =>
      api
        .get<Schemas['SuggestionPage']>('/me/suggestions/people', {
          auth: 'required',
          signal,
          query: { limit: 10 },
        })
        .then((page) => page.items),
    'people',
  );
  const [error, setError] = useState<unknown>(null);

  async function act(suggestion: Suggestion, action: 'follow' | 'dismiss') {
    setError(null);
    try {
      if (action === 'follow')
        await api.put(`/me/following/${suggestion.user.id}`, undefined, { auth: 'required' });
      else await api.delete(`/me/suggestions/people/${suggestion.user.id}`, { auth: 'required' });
      suggestions.setData((list) => (list ?? []).filter((s) => s.user.id !== suggestion.user.id));
      if (action === 'follow') onFollowed();
    } catch (caught) {
      setError(caught);
    }
  }

  const list = suggestions.data ?? [];
  return (
    <Section title="People you may know">
      <ErrorBanner error={suggestions.error ?? error} />
      {suggestions.loading && <Loading label="Finding people…" />}
      {!suggestions.loading && !suggestions.error && list.length === 0 && (
        <Empty>No suggestions yet. They come from the people you follow.</Empty>
      )}
      <ul className="flex flex-col divide-y divide-slate-100">
        {list.map((suggestion) => (
          <li key={suggestion.user.id} className="flex flex-wrap items-center justify-between gap-2 py-2">
            <div className="flex flex-col">
              <PersonLink handle={suggestion.user.handle} />
              <span className="text-sm text-slate-600">
                {suggestion.explanation} · {suggestion.followers}{' '}
                {suggestion.followers === 1 ? 'follower' : 'followers'}
              </span>
            </div>
            <div className="flex gap-2">
              <Button
                aria-label={`Follow @${suggestion.user.handle}`}
                onClick={() => void act(suggestion, 'follow')}
              >
                Follow
              </Button>
              <Button
                variant="secondary"
                aria-label={`Dismiss @${suggestion.user.handle}`}
                onClick={() => void act(suggestion, 'dismiss')}
              >
                Not now
              </Button>
            </div>
          </li>
        ))}
      </ul>
    </Section>
  );
}

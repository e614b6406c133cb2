import { useCallback, useState } from 'react';
import { api, type Schemas } from '../../api/client';
import { Button } from '../Button';
import { ErrorBanner } from '../ErrorBanner';
import { Empty, Loading } from '../States';
import { PersonLink } from './PersonLink';
import { useLoad } from './useLoad';
import { when } from './when';

type Connection = Schemas['Connection'];
type Page = Schemas['ConnectionPage'];

export interface PersonAction {
  /** The button's words, e.g. "Unfollow"; the person's handle is added for screen readers. */
  label: string;
  run: (connection: Connection) => Promise<void>;
}

/**
 * One page after another of a connection list (followers, following, friends, blocks, mutes).
 * An action that succeeds takes the person off the list.
 */
export function PeopleList({
  path,
  empty,
  since,
  action,
}: {
  path: string;
  empty: string;
  since: string;
  action?: PersonAction;
}) {
  const [extra, setExtra] = useState<{ items: Connection[]; cursor: string | null }>({
    items: [],
    cursor: null,
  });
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const first = useLoad(async (signal) => {
    const page = await api.get<Page>(path, { signal });
    setExtra({ items: [], cursor: page.next_cursor });
    return page.items;
  }, path);

  const more = useCallback(async () => {
    if (extra.cursor === null) return;
    setBusy(true);
    setError(null);
    try {
      const page = await api.get<Page>(path, { query: { cursor: extra.cursor } });
      setExtra((current) => ({ items: [...current.items, ...page.items], cursor: page.next_cursor }));
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }, [extra.cursor, path]);

  async function act(connection: Connection) {
    if (!action) return;
    setError(null);
    try {
      await action.run(connection);
      const keep = (c: Connection) => c.user.id !== connection.user.id;
      first.setData((items) => (items ?? []).filter(keep));
      setExtra((current) => ({ ...current, items: current.items.filter(keep) }));
    } catch (caught) {
      setError(caught);
    }
  }

  const items = [...(first.data ?? []), ...extra.items];
  return (
    <div>
      <ErrorBanner error={first.error ?? error} />
      {first.loading && <Loading />}
      {!first.loading && !first.error && items.length === 0 && <Empty>{empty}</Empty>}
      <ul className="flex flex-col divide-y divide-slate-100">
        {items.map((connection) => (
          <li key={connection.user.id} className="flex flex-wrap items-center justify-between gap-2 py-2">
            <div className="flex flex-col">
              <PersonLink handle={connection.user.handle} />
              <span className="text-xs text-slate-600">
                {since} {when(connection.since)}
              </span>
            </div>
            {action && (
              <Button
                variant="secondary"
                aria-label={`${action.label} @${connection.user.handle}`}
                onClick={() => void act(connection)}
              >
                {action.label}
              </Button>
            )}
          </li>
        ))}
      </ul>
      {extra.cursor !== null && (
        <Button variant="secondary" className="mt-2" disabled={busy} onClick={() => void more()}>
          {busy ? 'Loading…' : 'Show more'}
        </Button>
      )}
    </div>
  );
}

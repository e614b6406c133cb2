/**
 * A keyset-paged list from the API (`{items, next_cursor}`): the first page whenever the path or
 * the query changes, the next on request. An answer to a request that a newer one replaced is
 * dropped (and the request aborted), so typing fast never shows an older query's results.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { api } from '../../api/client';

interface PageOf<T> {
  items: T[];
  next_cursor: string | null;
}

export interface Paged<T> {
  items: T[];
  loading: boolean;
  error: unknown;
  hasMore: boolean;
  more: () => void;
}

interface State<T> {
  items: T[];
  cursor: string | null;
  loading: boolean;
  error: unknown;
}

/** `known` followed by the new items it does not hold yet (a row can move between two pages). */
export function appendNew<T>(known: T[], page: T[], key: (item: T) => string): T[] {
  const seen = new Set(known.map(key));
  return [...known, ...page.filter((item) => !seen.has(key(item)))];
}

/**
 * `path` null asks nothing (an idle, empty list); `q`, when not empty, is sent as `q`. `key` must
 * be a stable function (defined outside the component).
 */
export function usePaged<T>(
  path: string | null,
  q: string,
  limit: number,
  key: (item: T) => string,
): Paged<T> {
  const [state, setState] = useState<State<T>>({
    items: [],
    cursor: null,
    loading: path !== null,
    error: null,
  });
  const current = useRef<AbortController | null>(null);

  const fetchPage = useCallback(
    async (from: string | null) => {
      if (path === null) return;
      current.current?.abort();
      const controller = new AbortController();
      current.current = controller;
      setState((s) => ({ ...s, loading: true, error: null }));
      try {
        const page = await api.get<PageOf<T>>(path, {
          query: { limit, cursor: from ?? undefined, q: q === '' ? undefined : q },
          signal: controller.signal,
        });
        if (controller.signal.aborted) return;
        setState((s) => ({
          items: from === null ? page.items : appendNew(s.items, page.items, key),
          cursor: page.next_cursor,
          loading: false,
          error: null,
        }));
      } catch (failure) {
        if (controller.signal.aborted) return;
        setState((s) => ({ ...s, loading: false, error: failure }));
      }
    },
    [path, q, limit, key],
  );

  useEffect(() => {
    setState({ items: [], cursor: null, loading: path !== null, error: null });
    void fetchPage(null);
    return () => current.current?.abort();
  }, [fetchPage, path]);

  const { cursor } = state;
  const more = useCallback(() => {
    if (cursor !== null) void fetchPage(cursor);
  }, [cursor, fetchPage]);

  return { items: state.items, loading: state.loading, error: state.error, hasMore: cursor !== null, more };
}

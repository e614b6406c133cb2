/**
 * The catalog: public videos, newest first, a page at a time, and a search over them. The API
 * has no search yet, so the search matches the videos loaded and loads further pages (up to a
 * limit) while the query is set; the query lives in the URL (`?q=`) so a search can be shared.
 */
import { useCallback, useEffect, useMemo, useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import { api, type Schemas } from '../../api/client';
import { Button } from '../../components/Button';
import { ErrorBanner } from '../../components/ErrorBanner';
import { PageTitle } from '../../components/PageTitle';
import { Empty, Loading } from '../../components/States';
import { VideoCard } from '../../components/video/VideoCard';
import { matches } from './search';

type Video = Schemas['Video'];
type Page = Schemas['VideoPage'];

const PAGE_SIZE = 24;
/** Pages a search loads on its own before it asks the viewer to load more. */
const SEARCH_PAGES = 8;

export default function CatalogPage() {
  const [params, setParams] = useSearchParams();
  const query = params.get('q') ?? '';
  const [videos, setVideos] = useState<Video[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [pages, setPages] = useState(0);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);

  const load = useCallback(async (from: string | null) => {
    setLoading(true);
    setError(null);
    try {
      const page = await api.get<Page>('/videos', { query: { limit: PAGE_SIZE, cursor: from ?? undefined } });
      setVideos((known) => {
        const seen = new Set(known.map((v) => v.id));
        return [...known, ...page.items.filter((v) => !seen.has(v.id))];
      });
      setCursor(page.next_cursor);
      setPages((n) => n + 1);
    } catch (failure) {
      setError(failure);
    } finally {
      setLoading(false);
    }
  }, []);

  useEffect(() => {
    void load(null);
  }, [load]);

  const shown = useMemo(() => videos.filter((video) => matches(video, query)), [videos, query]);
  const searching = query.trim() !== '';

  // A search keeps loading pages until it has something to show or reaches its limit.
  useEffect(() => {
    if (
      searching &&
      !loading &&
      !error &&
      cursor !== null &&
      shown.length < PAGE_SIZE &&
      pages < SEARCH_PAGES
    ) {
      void load(cursor);
    }
  }, [searching, loading, error, cursor, shown.length, pages, load]);

  return (
    <section className="flex flex-col gap-4">
      <PageTitle>Videos</PageTitle>
      <form role="search" onSubmit={(event) => event.preventDefault()} className="flex flex-col gap-1">
        <label htmlFor="catalog-search" className="text-sm font-medium">
          Search videos
        </label>
        <input
          id="catalog-search"
          type="search"
          value={query}
          onChange={(event) =>
            setParams(event.target.value ? { q: event.target.value } : {}, { replace: true })
          }
          placeholder="Title, description or @owner"
          className="min-h-10 rounded-md border border-slate-400 bg-white px-3 py-2 text-base"
        />
      </form>
      <ErrorBanner error={error} />
      {shown.length > 0 && (
        <ul className="grid grid-cols-1 gap-4 sm:grid-cols-2 lg:grid-cols-3" aria-label="Videos">
          {shown.map((video) => (
            <VideoCard key={video.id} video={video} />
          ))}
        </ul>
      )}
      {loading && <Loading label={searching ? 'Searching…' : 'Loading videos…'} />}
      {!loading && !error && shown.length === 0 && (
        <Empty>{searching ? `No videos match “${query}”.` : 'No videos yet.'}</Empty>
      )}
      {!loading && cursor !== null && (
        <Button variant="secondary" onClick={() => void load(cursor)} className="self-center">
          {searching ? 'Search older videos' : 'Show more videos'}
        </Button>
      )}
    </section>
  );
}

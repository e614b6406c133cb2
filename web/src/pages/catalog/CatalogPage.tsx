/**
 * The catalog: public videos, newest first, a page at a time; with a query (`?q=`, in the URL so
 * a search can be shared), the server's search instead (`GET /search/videos`: words, the start
 * of a word, typos; most relevant first) and the people whose handle matches
 * (`GET /search/people`), each list paged by its own "Show more".
 */
import { useSearchParams } from 'react-router-dom';
import { type Schemas } from '../../api/client';
import { Button } from '../../components/Button';
import { ErrorBanner } from '../../components/ErrorBanner';
import { PageTitle } from '../../components/PageTitle';
import { Empty, Loading } from '../../components/States';
import { VideoCard } from '../../components/video/VideoCard';
import { PeopleResults } from './PeopleResults';
import { useDebounced } from './useDebounced';
import { usePaged } from './usePaged';

type Video = Schemas['Video'];

const PAGE_SIZE = 24;
/** The server's cap on a query (`search_query_too_long` beyond it). */
const MAX_QUERY_CHARS = 100;
/** Wait for a pause in typing before asking the server. */
const TYPING_PAUSE_MS = 250;

const videoKey = (video: Video) => video.id;

export default function CatalogPage() {
  const [params, setParams] = useSearchParams();
  const query = params.get('q') ?? '';
  const settled = useDebounced(query.trim(), TYPING_PAUSE_MS);
  const searching = settled !== '';
  const videos = usePaged<Video>(searching ? '/search/videos' : '/videos', settled, PAGE_SIZE, videoKey);
  const typing = query.trim() !== settled;

  return (
    <section className="flex flex-col gap-4">
      <PageTitle>Videos</PageTitle>
      <form role="search" onSubmit={(event) => event.preventDefault()} className="flex flex-col gap-1">
        <label htmlFor="catalog-search" className="text-sm font-medium">
          Search videos and people
        </label>
        <input
          id="catalog-search"
          type="search"
          value={query}
          maxLength={MAX_QUERY_CHARS}
          onChange={(event) =>
            setParams(event.target.value ? { q: event.target.value } : {}, { replace: true })
          }
          placeholder="Words from a title or description, or a handle"
          className="min-h-10 rounded-md border border-slate-400 bg-white px-3 py-2 text-base"
        />
      </form>
      {searching && <PeopleResults query={settled} />}
      {searching && (
        <h2 className="text-lg font-semibold" id="video-results">
          Videos
        </h2>
      )}
      <ErrorBanner error={videos.error} />
      {videos.items.length > 0 && (
        <ul
          className="grid grid-cols-1 gap-4 sm:grid-cols-2 lg:grid-cols-3"
          aria-label={searching ? 'Videos found' : 'Videos'}
        >
          {videos.items.map((video) => (
            <VideoCard key={video.id} video={video} />
          ))}
        </ul>
      )}
      {(videos.loading || typing) && (
        <Loading label={searching || typing ? 'Searching…' : 'Loading videos…'} />
      )}
      {!videos.loading && !typing && !videos.error && videos.items.length === 0 && (
        <Empty>{searching ? `No videos match “${settled}”.` : 'No videos yet.'}</Empty>
      )}
      {!videos.loading && videos.hasMore && (
        <Button variant="secondary" onClick={videos.more} className="self-center">
          {searching ? 'Show more videos found' : 'Show more videos'}
        </Button>
      )}
    </section>
  );
}

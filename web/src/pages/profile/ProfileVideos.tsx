/**
 * The videos on someone's profile (`GET /users/{handle}/videos`): their public videos that can be
 * played, newest first, a page at a time, as cards like the catalog's. The same list for every
 * visitor, the owner included (the server decides; `/me/videos` has all of one's own).
 */
import { useState } from 'react';
import { type Schemas } from '../../api/client';
import { Button } from '../../components/Button';
import { ErrorBanner } from '../../components/ErrorBanner';
import { Section } from '../../components/social/Section';
import { Empty, Loading } from '../../components/States';
import { VideoCard } from '../../components/video/VideoCard';
import { usePaged } from '../catalog/usePaged';

type Video = Schemas['Video'];

export const PROFILE_PAGE_SIZE = 12;

const videoKey = (video: Video) => video.id;

/** The list with a retry that starts it again from the first page after a failed first load. */
export function ProfileVideos({ handle }: { handle: string }) {
  const [attempt, setAttempt] = useState(0);
  return (
    <Section title="Videos">
      <VideoList key={attempt} handle={handle} retry={() => setAttempt((n) => n + 1)} />
    </Section>
  );
}

function VideoList({ handle, retry }: { handle: string; retry: () => void }) {
  const videos = usePaged<Video>(
    `/users/${encodeURIComponent(handle)}/videos`,
    '',
    PROFILE_PAGE_SIZE,
    videoKey,
  );
  const failedFirst = videos.error !== null && videos.items.length === 0;
  return (
    <div className="flex flex-col gap-4">
      {videos.items.length > 0 && (
        <ul
          className="grid grid-cols-1 gap-4 sm:grid-cols-2 lg:grid-cols-3"
          aria-label={`Videos by @${handle}`}
        >
          {videos.items.map((video) => (
            <VideoCard key={video.id} video={video} />
          ))}
        </ul>
      )}
      <ErrorBanner error={videos.error} />
      {videos.loading && <Loading label="Loading videos…" />}
      {!videos.loading && !videos.error && videos.items.length === 0 && <Empty>No public videos yet.</Empty>}
      {failedFirst && !videos.loading && (
        <Button variant="secondary" onClick={retry} className="self-center">
          Try again
        </Button>
      )}
      {!videos.loading && videos.hasMore && (
        <Button variant="secondary" onClick={videos.more} className="self-center">
          Show more videos
        </Button>
      )}
    </div>
  );
}
